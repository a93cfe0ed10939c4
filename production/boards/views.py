"""The shop-floor boards: an index to pick a work center, its board, and the part htmx polls to refresh it.

Read-only; production.view_board (planners, production managers; the operators' role too).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.http import AuthenticatedRequest
from production.boards.selectors import board_work_centers, work_center_board
from production.master_data import WorkCenter

PERMISSION = "production.view_board"


def _work_center(code: str) -> WorkCenter:
    try:
        return board_work_centers().get(code=code)
    except WorkCenter.DoesNotExist:
        raise Http404(_("No such work center.")) from None


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def board_index(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "production/boards/index.html", {"work_centers": board_work_centers()})


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def board(request: AuthenticatedRequest, code: str) -> HttpResponse:
    work_center = _work_center(code)
    context = {
        "board": work_center_board(user=request.user, work_center=work_center),
        "refresh_seconds": settings.BOARD_REFRESH_SECONDS,
    }
    return render(request, "production/boards/board.html", context)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def board_live(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The board's content alone: what the page's htmx poll swaps in."""
    work_center = _work_center(code)
    context = {
        "board": work_center_board(user=request.user, work_center=work_center),
        "refresh_seconds": settings.BOARD_REFRESH_SECONDS,
    }
    return render(request, "production/boards/_live.html", context)
