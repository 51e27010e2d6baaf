"""State changes of the single entry (CONTRIBUTING: services are the only way in).

- `intake`: receiving MedCom messages (store, read, file, acknowledge, quarantine).
- `outbox`: replies and forwards we send, their delivery and acknowledgements.
- `handling`: the inbox keeper's work, the web referral form, letters and phone calls.
"""

from tovholder.inbox.services.handling import (
    CustodyHolderInput,
    Upload,
    contact_register,
    entry_alias_add,
    inbox_item_attach,
    inbox_item_forward,
    inbox_item_note,
    inbox_item_open_case,
    inbox_item_reject,
    quarantine_resolve,
    quarantine_retry,
    web_referral_submit,
)
from tovholder.inbox.services.intake import (
    Reception,
    arrival_process,
    arrivals_retry,
    medcom_receive,
)
from tovholder.inbox.services.outbox import (
    outbound_acknowledge,
    outbound_flag_resolve,
    outbound_referral_send,
    outbox_deliver,
    outbox_resend_due,
    referrer_tell,
    thread_forward,
    thread_reply,
)

__all__ = [
    "CustodyHolderInput",
    "Reception",
    "Upload",
    "arrival_process",
    "arrivals_retry",
    "contact_register",
    "entry_alias_add",
    "inbox_item_attach",
    "inbox_item_forward",
    "inbox_item_note",
    "inbox_item_open_case",
    "inbox_item_reject",
    "medcom_receive",
    "outbound_acknowledge",
    "outbound_flag_resolve",
    "outbound_referral_send",
    "outbox_deliver",
    "outbox_resend_due",
    "quarantine_resolve",
    "quarantine_retry",
    "referrer_tell",
    "thread_forward",
    "thread_reply",
    "web_referral_submit",
]
