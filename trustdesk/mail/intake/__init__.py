"""Email intake: a pipeline with a durable first step.

1. ``store.inbound_store`` commits the raw bytes (one ``InboundEmail`` row, unique by
   Message-ID or by the SHA-256 of the bytes) before any way in acknowledges the message, and
   after commit makes sure a ``tasks.inbound_drain_task`` is waiting.
2. ``drain.inbound_drain`` claims a batch of rows with a conditional UPDATE (one message:
   ``pipeline.inbound_process``), parses each
   (``trustdesk.mail.parsing``), reads the trusted Authentication-Results (``authresults``),
   recognises loops and bounces (``loops``), finds the ticket it belongs to and checks that the
   sender may write there (``routing``, ``identity``), then calls the tickets services and marks
   the row done in one transaction. A message that breaks any step is quarantined with its
   error, its raw bytes kept, for an admin to retry.

Modules are imported directly (``from trustdesk.mail.intake.store import inbound_store``); this
package's ``__init__`` stays empty so importing one step never loads the others.
"""
