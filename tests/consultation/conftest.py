import pytest


@pytest.fixture(autouse=True)
def family_letters(monkeypatch):
    """Records every letter to a family (and passes it on to the letters app when it is
    installed), so tests can see what the family was told."""
    from tovholder.cases import notify

    sent: list[dict] = []
    real = notify._handlers.get("family")

    def capture(**kwargs):
        sent.append(kwargs)
        return real(**kwargs) if real else []

    monkeypatch.setitem(notify._handlers, "family", capture)
    return sent
