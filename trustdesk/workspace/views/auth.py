"""Sign in, sign out, and setting a password from a one-time link."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from trustdesk.workspace.forms import PasswordSetForm, SignInForm


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Opened from the link that ``trustdesk create-agent`` prints; signs the agent in."""

    template_name = "workspace/password_set.html"
    form_class = PasswordSetForm
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("workspace:inbox")
    title = _("Choose your password")
