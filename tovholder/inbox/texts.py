"""What the entry writes back to a referrer. The receipt follows seed 001, appendix 2."""

from __future__ import annotations


def receipt(*, referrer: str, child: str, municipality: str) -> str:
    return (
        f"Kære {referrer or 'henviser'}\n\n"
        f"Tak for henvisning af {child} til behandling i koordinationsudvalget i Fælles "
        f"forpligtende handleplansforløb i {municipality} Kommune. Hermed kvitteres for "
        f"modtagelse af henvendelsen. Forældrene vil modtage samtykke til behandling af sagen "
        f"snarest.\n\n"
        f"Mvh. Koordinationsudvalget {municipality} Kommune"
    )


def attached_receipt(*, referrer: str, child: str, municipality: str) -> str:
    return (
        f"Kære {referrer or 'henviser'}\n\n"
        f"Tak for henvendelsen om {child}. Barnet har allerede et forløb hos koordinationsudvalget "
        f"i {municipality} Kommune, og din henvendelse er lagt til det forløb. Hermed kvitteres for "
        f"modtagelse af henvendelsen.\n\n"
        f"Mvh. Koordinationsudvalget {municipality} Kommune"
    )


def rejection(*, referrer: str, child: str, municipality: str, reason: str) -> str:
    return (
        f"Kære {referrer or 'henviser'}\n\n"
        f"Tak for henvendelsen om {child}. Koordinationsudvalget i {municipality} Kommune kan ikke "
        f"behandle den: {reason.strip()}\n\n"
        f"Mvh. Koordinationsudvalget {municipality} Kommune"
    )


def forwarded(*, referrer: str, child: str, municipality: str, to: str) -> str:
    return (
        f"Kære {referrer or 'henviser'}\n\n"
        f"Tak for henvendelsen om {child}. Barnet bor i {to} Kommune, så vi har videresendt "
        f"henvendelsen til den fælles indgang i {to} Kommune, som vender tilbage.\n\n"
        f"Mvh. Koordinationsudvalget {municipality} Kommune"
    )


def forward_note(*, municipality: str, to: str, note: str) -> str:
    text = (
        f"Videresendt fra den fælles indgang i {municipality} Kommune: barnet bor efter det "
        f"oplyste i {to} Kommune."
    )
    return f"{text}\n\n{note.strip()}" if note.strip() else text
