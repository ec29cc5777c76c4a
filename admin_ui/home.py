"""The studio's front page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def studio_home(request):
    return render(request, "admin_ui/home.html", {})
