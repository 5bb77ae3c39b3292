"""The URLs: one view per form the integration suite measures."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("store", views.store),
    path("stream", views.stream),
    path("fails", views.fails),
]
