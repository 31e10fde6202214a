"""``Cache-Control: private, no-store`` on every page and download this app answers (static files are served by
WhiteNoise before this runs): sample and prediction data must not stay in a shared or browser cache."""

from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response
