from trustdesk.tickets.models.attachment import Attachment
from trustdesk.tickets.models.message import Message
from trustdesk.tickets.models.ticket import Channel, Priority, Status, Tag, Ticket

__all__ = ["Attachment", "Channel", "Message", "Priority", "Status", "Tag", "Ticket"]
