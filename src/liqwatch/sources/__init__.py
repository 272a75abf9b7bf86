"""Where prices come from: exchanges through ccxt, the built-in simulation, CSV replays. No Qt here.

Every feed answers the same question (`liqwatch.sources.base.Feed.fetch`): the quotes it could get now, and how
each of its sources is doing. Faults never raise out of a feed; they show as feed health and, through quote age,
as stale figures.
"""
