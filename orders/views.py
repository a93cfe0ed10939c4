from django.shortcuts import render

from . import selectors


def order_list(request):
    orders = selectors.order_list(user=request.user)[:50]
    return render(request, "orders/order_list.html", {"orders": orders})
