"""Views of the agent workspace: thin, each parses, authorises, calls one service, renders."""
