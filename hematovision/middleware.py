"""Site-wide middleware: ``Cache-Control: private, no-store`` on every page and download this app answers (static
files are served by WhiteNoise before this runs), so sample and prediction data never stay in a shared or browser
cache; and the styled 503 page when a page's database or storage fails."""

from django.utils.cache import patch_cache_control

from hematovision.errors import BACKEND_ERRORS, backend_unavailable, is_api_request


class PrivateCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response


class BackendUnavailableMiddleware:
    """A web page whose view fails on the database or the file storage answers the styled 503 page, not a bare 500.

    The API answers its own JSON 503 (``errors.json_exception_handler``) before this is reached. The services leave
    nothing half-done on such a failure (no row without its file, no file without its row), which the page says.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BACKEND_ERRORS) and not is_api_request(request):
            return backend_unavailable(request, exception)
        return None
