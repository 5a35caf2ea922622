"""Dates and times as each language writes them (settings.FORMAT_MODULE_PATH).

Django's own formats fill in whatever these modules leave out.
"""
