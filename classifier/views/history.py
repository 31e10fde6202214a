"""The user's own predictions, filtered and paginated (its CSV export is in ``exports``)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from classifier import selectors


@login_required
def history(request):
    prediction_filter = selectors.prediction_filter(user=request.user, params=request.GET)
    page = Paginator(prediction_filter.qs, settings.PAGINATE_BY).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "classifier/history.html", {"filter": prediction_filter, "page": page, "query": query.urlencode()}
    )
