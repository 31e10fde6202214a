"""Thin HTML views, one module per area: parse the request, call a service or selector, render.

``predictions`` (upload, results, one prediction and its images), ``history``, ``exports`` (the history CSV) and
``model`` (the Model page). Samples and their review are ``labs.views``'; sign-up is ``accounts.views``'.
"""
