import logging

from tovholder.children.cpr import CPR_PATTERN


class RedactCPR(logging.Filter):
    """Last line of defence: no CPR number (ordinary or replacement) reaches an application
    log — not in the message, nor in the traceback or stack of a logged exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, redacted
            message = f"{record.msg} {record.args}"
        if CPR_PATTERN.search(message):
            record.msg = CPR_PATTERN.sub("[CPR]", message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # Format the exception here, as the handler's formatter would, so its text can
            # be redacted (the formatter uses exc_text when it is set).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and CPR_PATTERN.search(record.exc_text):
            record.exc_text = CPR_PATTERN.sub("[CPR]", record.exc_text)
        if record.stack_info and CPR_PATTERN.search(record.stack_info):
            record.stack_info = CPR_PATTERN.sub("[CPR]", record.stack_info)
        return True
