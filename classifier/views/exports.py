"""The history as CSV, with the history page's filters, all pages at once."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from classifier import exports, selectors


@login_required
@require_GET
def history_csv(request):
    prediction_filter = selectors.prediction_filter(user=request.user, params=request.GET)
    if not prediction_filter.is_valid():
        return HttpResponse(
            "Some filters were not understood: check the dates.", status=400, content_type="text/plain; charset=utf-8"
        )
    return exports.predictions_csv_response(prediction_filter.qs, f"predictions-{timezone.now():%Y%m%d-%H%M}.csv")
