"""The organisers' console (``/organise/``): pages over the events services and selectors.

Every view that belongs to one event goes through :func:`access.organiser_event`,
which finds the event with the same selector the API uses, so that an event the
user does not organise answers 404 everywhere.
"""
