"""Objects that run off the GUI thread (the poller, importers) and talk to it through queued signals."""
