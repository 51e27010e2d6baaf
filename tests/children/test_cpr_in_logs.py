"""CPR numbers, ordinary and replacement, are found in text (the log guard and the log
filter share the pattern), redacted by the production log filter — in messages and in
logged exceptions — and caught by the suite's guard before that filter runs."""

from __future__ import annotations

import hashlib
import logging
import sys

import pytest

from tests.conftest import _CollectAll
from tovholder.children.cpr import CPR_PATTERN
from tovholder.web.logfilter import RedactCPR


@pytest.mark.parametrize("text", [
    "child 0101901235 arrived", "010190-1235", "2509479989",
    "0703921VJ4", "patient=1206550VK9;", "070392AVJ4", "010190A123", "0703921vj4.",  # replacement
    "6103921234", "610392-1234",  # DD+60
    "9999991AB2",  # a replacement number without a date
])
def test_the_pattern_finds_ordinary_and_replacement_cpr_numbers(text):
    assert CPR_PATTERN.search(text)


@pytest.mark.parametrize("text", [
    "case 12 of 2026-11-23", "2026-11-23T10:30:00+01:00", "20261123",
    "GLN 5790000000012", "EAN 5798000000005",  # 13 digits
    "SOR 123456789012", "SOR 12345678901", "sor 1234567890123456",  # 11+ digits
    "urn:oid:1.2.208.176.1.6.1.3.177", "urn:uuid:0c8dddf2-c882-4b00-8870-5035279e7d01",
    hashlib.sha256(b"x").hexdigest(), "TH-2026-00012", "tlf. 86 34 10 10", "+45 86341010",
    "070392-xxxx", "0703XX-XXXX",  # our masks
])
def test_the_pattern_leaves_dates_glns_sor_ids_and_masks_alone(text):
    assert not CPR_PATTERN.search(text)


def _record(msg, args=(), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("tovholder.x", logging.ERROR, __file__, 1, msg, args, exc_info)


@pytest.mark.parametrize("cpr", ["0703921VJ4", "1206550VK9", "6103921234", "9999991AB2"])
def test_the_log_filter_redacts_a_replacement_cpr_in_the_message(cpr):
    record = _record("patient %s arrived", (cpr,))
    assert RedactCPR().filter(record)
    assert record.getMessage() == "patient [CPR] arrived"


def test_the_log_filter_redacts_a_cpr_in_a_logged_exception():
    try:
        raise ValueError("no birth date in 070392AVJ4")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    RedactCPR().filter(record)
    written = logging.Formatter("%(message)s").format(record)
    assert "070392AVJ4" not in written and "[CPR]" in written and "ValueError" in written


def test_the_guard_reads_formatted_exception_text():
    handler = _CollectAll()
    try:
        raise ValueError("no birth date in 1206550VK9")
    except ValueError:
        handler.emit(_record("failed", exc_info=sys.exc_info()))
    assert CPR_PATTERN.search(handler.texts[0]) and "Traceback" in handler.texts[0]


def test_the_guard_sees_the_number_before_the_production_filter_redacts_it(no_cpr_in_logs):
    logging.getLogger("tovholder.x").warning("patient %s", "0703921VJ4")
    record, text = no_cpr_in_logs.records[-1], no_cpr_in_logs.texts[-1]
    assert "0703921VJ4" in text, "the guard must see what the code logged"
    # Leave nothing for the guard itself to fail this test on.
    no_cpr_in_logs.records.remove(record)
    no_cpr_in_logs.texts.remove(text)
