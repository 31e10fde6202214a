"""Thin HTML views, one module per area: parse the request, call a service or selector, render.

``predictions`` (upload, results, one prediction and its images), ``history``, ``samples`` (a smear and its
batch upload), ``review`` (the review grid and sign-off), ``exports`` (CSV, PDF, dataset ZIP), ``model``
(the Model page) and ``accounts`` (sign-up).
"""
