import logging

from tovholder.children.cpr import CPR_PATTERN


class RedactCPR(logging.Filter):
    """Last line of defence: no CPR number reaches an application log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if CPR_PATTERN.search(message):
            record.msg = CPR_PATTERN.sub("[CPR]", message)
            record.args = ()
        return True
