"""The first version of the privacy statement that the demo data publishes (``seed_demo``): a true
description of what this application processes, in Dutch and English. Numbers that the settings or
the retention policy decide are placeholders (``privacy_statement.facts``), so the text stays true
or the privacy officer is warned."""

from __future__ import annotations

TITLE_NL = "Privacyverklaring Hansken Governance"
TITLE_EN = "Hansken Governance privacy statement"

SOURCE_NL = """\
Deze verklaring beschrijft welke persoonsgegevens **Hansken Governance** verwerkt: de applicatie
naast Hansken, het platform van het Nederlands Forensisch Instituut (NFI) voor forensisch
zaakonderzoek, die bepaalt en vastlegt wie bij welke zaakgegevens mag en wie wat heeft gedaan. De
zaakgegevens zelf blijven in Hansken; deze applicatie bewaart er geen kopie van.

## Wie er geregistreerd staat

Iedereen die met Hansken werkt of toegang beheert, staat hier geregistreerd: zaakverantwoordelijken,
onderzoekers, data scientists, software engineers, operators, de privacy officer, de information
security manager en beheerders. Van ieder bewaren we:

- gebruikersnaam, naam, e-mailadres en eventueel personeelsnummer;
- rollen;
- de datum tot wanneer de screening geldig is, met een verwijzing naar de screening (zonder geldige
  screening geen toegang);
- of het account actief is;
- persoonlijke tokens voor scripts (alleen een hash; het token zelf wordt één keer getoond).

## Wat we vastleggen

- **Autorisaties.** Wie een persoon toegang gaf tot welke zaak, met welke rechten, in welke
  omgeving, vanaf en tot wanneer, met welke reden, en wie de toegang wijzigde of introk. Een
  autorisatie loopt hoogstens {{ grant_max_days }} dagen. Ook verzoeken om toegang en de antwoorden
  daarop.
- **Toegangsbeslissingen.** Hansken vraagt bij elke handeling of een persoon die mag uitvoeren. Een
  weigering wordt vastgelegd (wie, welke zaak, welke handeling, welk spoor, de reden); een
  toestemming niet apart, want de gebruiksgebeurtenis die volgt legt de handeling vast.
- **Gebruiksgebeurtenissen.** Hansken meldt wat personen met zaakgegevens doen: wie, wanneer, welke
  zaak, welke dataset en welk spoor, welke handeling en met welke uitkomst.
- **Handelingen in deze applicatie.** Elk in- en uitloggen (ook mislukte pogingen, met de opgegeven
  gebruikersnaam maar nooit het wachtwoord), elke wijziging van personen, autorisaties, zaken en
  bewaarbeslissingen, en het bekijken en exporteren van het auditspoor.
- **Deze verklaring.** Wie welke versie te zien kreeg en bevestigde, wanneer en via welk kanaal.

Bij elke vastlegging bewaren we het netwerkadres waarvandaan de handeling kwam en een
verzoeknummer. Alles komt in één auditspoor dat alleen kan groeien: elke gebeurtenis is met een
hash aan de vorige gekoppeld, zodat een gewijzigde of verwijderde gebeurtenis opvalt.

## Waarvoor

Om toegang tot zaakgegevens te beperken tot wie die nodig heeft en daartoe is gemachtigd, en om
achteraf te kunnen aantonen wie toegang had, wie die gaf en wat ermee is gedaan, ook in de
rechtszaal.

## Hoe lang

- Gebeurtenissen blijven {{ audit_retention_days }} dagen in het auditspoor en worden daarna in de
  wekelijkse opschoning verwijderd.
- Zaakgegevens die {{ inactivity_days }} dagen niet zijn gebruikt, leiden tot een bewaarmelding aan
  de zaakverantwoordelijke, die beslist over bewaren (met reden en datum) of verwijderen. Gegevens
  van een gesloten zaak krijgen uiterlijk {{ closure_limit_days }} dagen na het sluiten een melding.
- Personen worden niet verwijderd maar gedeactiveerd, zodat het auditspoor blijft kloppen.

## Wie het ziet

- Een zaakverantwoordelijke en zijn plaatsvervangers zien de autorisaties en het auditspoor van hun
  eigen zaken.
- De privacy officer en de information security manager zien het hele auditspoor en de
  geschiedenis van alle autorisaties.
- Beheerders beheren personen en API-clients; zij kunnen zichzelf geen toegang tot zaakgegevens
  geven.
- Elke gebeurtenis in het auditspoor gaat ook naar het SIEM van het NFI (de beveiligingsmonitoring),
  waar regels alarm slaan bij verdachte patronen, zoals veel geweigerde verzoeken van één persoon.

## Vragen

Voor vragen over uw gegevens, inzage of correctie kunt u terecht bij de privacy officer van het NFI.
"""

SOURCE_EN = """\
This statement describes which personal data **Hansken Governance** processes: the application
beside Hansken, the platform of the Netherlands Forensic Institute (NFI) for forensic case
investigation, that decides and records who may act on which case data and who did what. The case
data itself stays in Hansken; this application keeps no copy of it.

## Who is registered

Everyone who works with Hansken or manages access to it is registered here: case leads,
investigators, data scientists, software engineers, operators, the privacy officer, the information
security manager and administrators. For each we keep:

- username, name, e-mail address and, where given, employee number;
- roles;
- the date until which the screening is valid, with a reference to the screening (no valid
  screening, no access);
- whether the account is active;
- personal tokens for scripts (a hash only; the token itself is shown once).

## What we record

- **Grants.** Who gave a person access to which case, with which rights, in which environment, from
  and until when, for what reason, and who changed or revoked it. A grant runs at most
  {{ grant_max_days }} days. Also requests for access and their answers.
- **Access decisions.** Hansken asks, for every action, whether a person may do it. A denial is
  recorded (who, which case, which action, which trace, the reason); an allowed decision is not
  stored on its own, because the usage event that follows records the action.
- **Usage events.** Hansken reports what people do with case data: who, when, which case, which
  dataset and which trace, which action and with which outcome.
- **Actions in this application.** Every sign-in and sign-out (failed attempts too, with the
  username given but never the password), every change to people, grants, cases and retention
  decisions, and every view and export of the audit trail.
- **This statement.** Who was shown and acknowledged which version, when and through which channel.

With every record we keep the network address the action came from and a request number. Everything
goes into one audit trail that can only grow: each event is linked to the one before by a hash, so
a changed or removed event shows.

## What for

To limit access to case data to those who need it and are authorised, and to be able to prove
afterwards who had access, who granted it and what was done with it, in court too.

## How long

- Events stay in the audit trail for {{ audit_retention_days }} days and are then removed by the
  weekly purge.
- Case data not used for {{ inactivity_days }} days leads to a retention notice for the case lead,
  who decides to keep it (with a reason and a date) or to delete it. Data of a closed case gets a
  notice at the latest {{ closure_limit_days }} days after the closure.
- People are not deleted but deactivated, so that the audit trail stays whole.

## Who sees it

- A case lead and the case's deputies see the grants and the audit trail of their own cases.
- The privacy officer and the information security manager see the whole audit trail and the
  history of every grant.
- Administrators manage people and API clients; they cannot give themselves access to case data.
- Every event in the audit trail also goes to the NFI's SIEM (security monitoring), where rules
  raise an alert on suspicious patterns, such as many denied requests from one person.

## Questions

For questions about your data, access to it or its correction, contact the NFI's privacy officer.
"""

CHANGE_SUMMARY_NL = "Eerste versie."
CHANGE_SUMMARY_EN = "First version."
