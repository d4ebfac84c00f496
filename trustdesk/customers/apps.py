from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "trustdesk.customers"
    label = "customers"
