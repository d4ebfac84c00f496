from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "trustdesk.workspace"
    label = "workspace"
