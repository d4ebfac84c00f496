from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trustdesk.accounts"
    label = "accounts"
