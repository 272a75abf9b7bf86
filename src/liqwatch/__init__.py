"""LiqWatch: a desktop risk monitor for leveraged crypto positions."""

__version__ = "0.1.0"
APP_NAME = "liqwatch"
APP_ID = "io.github.liqwatch.LiqWatch"
