"""The awards pages of the organisers' console, under ``/organise/<slug>/awards/``."""
