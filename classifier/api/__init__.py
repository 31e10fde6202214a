"""The REST API (Django REST framework) over the same services and selectors as the web pages."""
