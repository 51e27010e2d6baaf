"""The consent declaration (seed 001, appendix 3) in plain Danish, and the letters of the
consent workflow (seed 001, appendix 2).

A municipality's text is a `ConsentText` version: a template with placeholders and the
parties data may be exchanged with. The first version is made from the defaults here.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.formats import date_format

from tovholder.consent.models import ConsentText, Party
from tovholder.organisations.models import Municipality, Unit

DEFAULT_TEMPLATE = """\
Samtykkeerklæring til indhentning og videregivelse af oplysninger
Fælles forløb og handleplan for børn og unge i {kommune} Kommune

Samtykket gælder: {barn}

Hvorfor beder vi om samtykke?
Et godt samarbejde mellem de fagpersoner, der kender {barn}, giver de bedste muligheder for en positiv udvikling. Med samtykke kan de udveksle relevante oplysninger, så forløbet hænger sammen, og I ikke selv skal bringe alt videre.

Hvilke oplysninger?
Navn og CPR-nummer samt følsomme personoplysninger, herunder helbredsoplysninger og eventuelle tidligere indsatser.

Hvem må udveksle oplysningerne?
{parter}

Koordinationsudvalget får oplysningerne, så {barn} kan få tilbudt de indsatser i kommunen, som udvalget peger på.

Formål
Formålet er at finde de bedste løsninger for {barn} og familien sammen med de relevante fagpersoner, og at skabe sammenhæng i forløbet.

Kun oplysninger, der er relevante for den aktuelle problemstilling, bliver udvekslet. Alle fagpersoner, der udveksler oplysningerne, har tavshedspligt.

Hvor længe gælder samtykket?
Samtykket gælder for drøftelser i koordinationsudvalget, for det fælles forløb og for korrespondance med egen læge og hospitaler, når det er relevant — dog højst {gyldighed}. Før samtykket udløber, spørger vi, om I vil forny det.

Det er frivilligt
Det er frivilligt at give samtykke, og det er alene et tilbud. Du kan til enhver tid trække dit samtykke tilbage: med det personlige link, du har fået, eller ved at kontakte {kontakt}. Trækker du samtykket tilbage, gælder det kun den fremtidige behandling af oplysningerne. Det, der allerede er skrevet i sagen, bliver gemt efter reglerne om journalføring.

Dine rettigheder (databeskyttelse)
Efter databeskyttelsesforordningen har du ret til at se de oplysninger, kommunen behandler om dig og dit barn, og til at se, hvem der har læst dem. Du kan få forkerte oplysninger rettet, og du kan klage til Datatilsynet. Du kan læse mere om samtykke og videregivelse af helbredsoplysninger på sundhed.dk og om databeskyttelse på {kommune} Kommunes hjemmeside."""

PLACEHOLDERS = ("{barn}", "{kommune}", "{parter}", "{gyldighed}", "{kontakt}")


def default_parties(municipality: Municipality) -> list[dict]:
    region = municipality.region
    bua = Unit.objects.filter(region=region, kind=Unit.Kind.BUA).order_by("pk").first()
    ward = Unit.objects.filter(region=region, kind=Unit.Kind.PAEDIATRIC_WARD).order_by("pk").first()
    return [
        {"kind": Party.COMMITTEE.value,
         "label": f"Det tværfaglige koordinationsudvalg i {municipality.name} Kommune: skolen, Pædagogisk "
                  "Psykologisk Rådgivning (PPR), Sundhedsplejen og Familierådgivningen"},
        {"kind": Party.BUA.value,
         "label": bua.name if bua else f"Børne- og Ungdomspsykiatrisk Afdeling i {region.name}"},
        {"kind": Party.PAEDIATRIC_WARD.value,
         "label": ward.name if ward else f"Børne- og ungeafdelingen på hospitalet i {region.name}"},
        {"kind": Party.GP.value, "label": "Egen læge"},
    ]


def default_contact(municipality: Municipality) -> str:
    entry = Unit.objects.filter(municipality=municipality, kind=Unit.Kind.SINGLE_ENTRY).first()
    if entry is None:
        return f"{municipality.name} Kommune"
    # No parentheses: Django's urlize drops a full stop after "(e-mail)." in the page.
    reach = [x for x in (entry.email and f"e-mail {entry.email}", entry.phone and f"tlf. {entry.phone}") if x]
    return ", ".join([entry.name, *reach])


def validity_phrase(days: int) -> str:
    return "1 år" if days >= 365 else f"{days} dage"


def render_text(text: ConsentText, *, child_name: str) -> str:
    municipality = text.municipality
    values = {
        "{barn}": child_name,
        "{kommune}": municipality.name,
        "{parter}": "\n".join(f"• {p['label']}" for p in text.parties),
        "{gyldighed}": validity_phrase(min(municipality.consent_validity_days, 365)),
        "{kontakt}": text.contact,
    }
    out = text.body_template
    for key, value in values.items():
        out = out.replace(key, value)
    return out


def long_date(day: dt.date) -> str:
    with translation.override("da"):  # letters are in Danish whatever the sender's screen shows
        return date_format(day, "j. F Y")


# --- Letters (seed 001, appendix 2) ---------------------------------------------------------

def request_letter(*, municipality: str, referrer: str, child_name: str, due: dt.date, capacity: str,
                   paper: bool) -> tuple[str, str]:
    subject = f"Samtykke: henvendelse om {child_name}" if capacity != "child" else "Samtykke: en henvendelse om dig"
    about = f"jeres barn, {child_name}" if capacity != "child" else "dig"
    you = "I" if capacity != "child" else "du"
    intro = (
        f"Kære [[NAVN]]\n\n"
        f"Vi har i {municipality} Kommune modtaget en henvendelse fra {referrer} om {about}. "
        f"Der ønskes en drøftelse og videndeling mellem kommunens fagpersoner, "
        f"{'jeres' if capacity != 'child' else 'din'} egen læge og eventuelt hospitalet. "
        "Formålet er at få en helhedsorienteret vurdering af, hvad der er behov for, og hvilke "
        f"muligheder vi har for at hjælpe netop {'jer' if capacity != 'child' else 'dig'}.\n\n"
    )
    if capacity == "child":
        intro += "Fordi du er fyldt 15 år, skal du selv give samtykke — ligesom dine forældre.\n\n"
    else:
        intro += "Vi skal have samtykke fra hver forælder med forældremyndighed.\n\n"
    if paper:
        how = (
            f"Vi må i {municipality} Kommune ikke se på sagen uden samtykke. Hvis {you} vil give samtykke, "
            f"så læs den vedlagte samtykkeerklæring, skriv under og send den tilbage til {municipality} "
            f"Kommune senest den {long_date(due)}. Det er også fint at ringe til os.\n\n"
        )
    else:
        how = (
            f"Vi må i {municipality} Kommune ikke se på sagen uden samtykke. Åbn dit personlige link, "
            f"læs hvad samtykket omfatter, og svar ja eller nej senest den {long_date(due)}:\n\n"
            "[[LINK]]\n\n"
            "Linket er kun til dig. Med det samme link kan du senere trække samtykket tilbage.\n\n"
        )
    end = (
        f"Hvis {you} ikke ønsker at give samtykke, sker der ikke mere med henvendelsen. "
        "Det er alene et tilbud.\n\n"
        f"Med venlig hilsen\n{municipality} Kommune"
    )
    return subject, intro + how + end


def reminder_letter(*, municipality: str, child_name: str, due: dt.date, capacity: str,
                    paper: bool) -> tuple[str, str]:
    about = f"{child_name}" if capacity != "child" else "dig"
    subject = f"Påmindelse: samtykke om {about}"
    how = (f"send den underskrevne samtykkeerklæring (vedlagt igen) senest den {long_date(due)}"
           if paper else f"svar via dit personlige link senest den {long_date(due)}:\n\n[[LINK]]")
    body = (
        f"Kære [[NAVN]]\n\n"
        f"Vi har endnu ikke fået dit svar på, om vi må drøfte henvendelsen om {about} i "
        f"{municipality} Kommune. Vil du give samtykke, så {how}\n\n"
        "Hører vi ikke fra dig inden da, afslutter vi henvendelsen, og der sker ikke mere. "
        "Det er helt frivilligt.\n\n"
        f"Med venlig hilsen\n{municipality} Kommune"
    )
    return subject, body


def renewal_letter(*, municipality: str, child_name: str, expires: dt.date, due: dt.date, capacity: str,
                   paper: bool) -> tuple[str, str]:
    about = child_name if capacity != "child" else "dig"
    subject = f"Forny samtykket om {about}"
    how = (f"skriv under på den vedlagte erklæring og send den til os senest den {long_date(due)}"
           if paper else f"svar via dit personlige link senest den {long_date(due)}:\n\n[[LINK]]")
    body = (
        f"Kære [[NAVN]]\n\n"
        f"Samtykket til det fælles forløb om {about} udløber den {long_date(expires)}. Et samtykke "
        "gælder højst et år. Skal forløbet fortsætte, skal vi have samtykke igen. "
        f"Vil du forny det, så {how}\n\n"
        "Uden et nyt samtykke kan vi ikke længere udveksle oplysninger, når det gamle udløber.\n\n"
        f"Med venlig hilsen\n{municipality} Kommune"
    )
    return subject, body


def receipt_letter(*, municipality: str, declaration: str, expires: dt.date) -> tuple[str, str]:
    body = (
        f"Kære [[NAVN]]\n\n"
        f"Tak. Vi har registreret dit samtykke. Det gælder til og med "
        f"{long_date(expires - dt.timedelta(days=1))}. Du kan til enhver tid trække det tilbage "
        "med det link, du brugte, eller ved at kontakte os.\n\n"
        "Her er en kopi af det, du har givet samtykke til:\n\n"
        f"{declaration}\n\n"
        f"Med venlig hilsen\n{municipality} Kommune"
    )
    return "Kvittering for dit samtykke", body


def closed_letter(*, municipality: str, child_name: str, reason: str) -> tuple[str, str]:
    why = {
        "no_consent": "Vi har ikke fået samtykke fra alle, der skal give det, inden fristen.",
        "consent_refused": "Ikke alle, der skal give samtykke, har ønsket at give det.",
        "consent_withdrawn": "Samtykket er trukket tilbage.",
    }[reason]
    body = (
        f"Kære [[NAVN]]\n\n"
        f"{why} Derfor afslutter vi henvendelsen om {child_name} i {municipality} Kommune, og vi "
        "udveksler ikke flere oplysninger om den. Det, der allerede er skrevet i sagen, gemmes efter "
        "reglerne om journalføring.\n\n"
        "I er altid velkomne til at kontakte egen læge eller skolen igen, hvis I får brug for hjælp.\n\n"
        f"Med venlig hilsen\n{municipality} Kommune"
    )
    return f"Henvendelsen om {child_name} er afsluttet", body


def referrer_no_consent_text(*, municipality: str, child_name: str) -> str:
    # Who refused or did not answer is not told: only that there is no consent.
    return (
        f"Vedr. henvendelsen om {child_name}: {municipality} Kommune har ikke modtaget samtykke fra "
        "alle, der skal give det. Henvendelsen er derfor afsluttet uden behandling i "
        f"koordinationsudvalget.\n\nMvh. Koordinationsudvalget, {municipality} Kommune"
    )


def declaration_blocks(text: str) -> list[dict]:
    """The plain-text declaration as blocks for a page: the title, then sections with a
    heading (a short first line without a full stop), paragraphs and bullet lists."""
    blocks: list[dict] = []
    for n, para in enumerate(p for p in text.split("\n\n") if p.strip()):
        lines = [line.strip() for line in para.strip().split("\n")]
        if n == 0:
            blocks.append({"kind": "title", "lines": lines})
            continue
        if len(lines) > 1 and len(lines[0]) < 70 and not lines[0].endswith((".", ":", ",")):
            blocks.append({"kind": "heading", "text": lines[0]})
            lines = lines[1:]
        bullets = [line[1:].strip() for line in lines if line.startswith("•")]
        if bullets and len(bullets) == len(lines):
            blocks.append({"kind": "list", "items": bullets})
        else:
            blocks.append({"kind": "para", "text": " ".join(lines)})
    return blocks
