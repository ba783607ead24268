"""The built-in consent texts a clinic starts with (each clinic can edit its own copy).

`match`: words of a service's category or name (lower case, substring) that make the consent
required for it by default; "general" is the default of every service that matches no other
treatment consent; the photo-use consent is never required by default (a service can choose it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinConsent:
    """A built-in consent: key, kind, title, body and the words that make it a default."""

    key: str
    kind: str
    title: str
    body: str
    match: tuple[str, ...] = ()
    covers: str = ""  # the default in words, for the settings page


_COMMON = (
    "I have told the clinic about my medical history, medications, allergies, pregnancy or "
    "breastfeeding, and any previous treatments, and the information I gave is complete and true.\n\n"
    "I have had the chance to ask questions and all of them were answered to my satisfaction. "
    "I understand that results vary, are not guaranteed, and that more than one treatment may be needed.\n\n"
    "I understand that I may withdraw this consent at any time before the treatment starts.")

BUILTINS: tuple[BuiltinConsent, ...] = (
    BuiltinConsent("neuromodulator", "treatment", "Consent to neuromodulator treatment (botulinum toxin)", (
        "I consent to treatment with a botulinum toxin type A product (such as Botox, Dysport, Xeomin, "
        "Jeuveau or Daxxify) by injection, to relax selected muscles of the face or neck.\n\n"
        "Possible effects include pain, swelling, redness or bruising at the injection sites, headache, "
        "temporary drooping of the eyelid or brow, asymmetry, and, rarely, allergic reaction or spread "
        "of the effect beyond the treated area. The effect usually appears within 3 to 14 days and lasts "
        "about 3 to 4 months.\n\n"
        "I confirm that I am not pregnant or breastfeeding and do not have a neuromuscular disorder "
        "(such as myasthenia gravis).\n\n" + _COMMON),
        ("neuromodulator", "botox", "dysport", "xeomin", "jeuveau", "daxxify", "tox"),
        "neuromodulators (Botox, Dysport, Xeomin, Jeuveau, Daxxify)"),
    BuiltinConsent("filler", "treatment", "Consent to dermal filler treatment", (
        "I consent to the injection of a dermal filler (such as a hyaluronic acid gel) to add volume or "
        "smooth lines in the treated areas.\n\n"
        "Possible effects include swelling, bruising, tenderness, lumps, asymmetry and, rarely, "
        "infection, a delayed inflammatory reaction, or blockage of a blood vessel that can damage the "
        "skin or, very rarely, vision. Hyaluronic acid fillers can be dissolved with hyaluronidase if "
        "needed.\n\n"
        "I will tell the clinic at once about severe pain, skin colour changes or any change in vision "
        "after the treatment.\n\n" + _COMMON),
        ("filler", "biostimulat", "juvederm", "restylane", "sculptra", "radiesse"),
        "dermal fillers and biostimulators (Juvéderm, Restylane, Sculptra, Radiesse)"),
    BuiltinConsent("laser_ipl", "treatment", "Consent to laser and IPL treatment", (
        "I consent to treatment of my skin with a laser or intense pulsed light (IPL) device.\n\n"
        "Possible effects include redness, swelling, discomfort, blistering, crusting, temporary or "
        "permanent lightening or darkening of the skin, scarring, and eye injury if protective eyewear "
        "is not worn. Darker skin types and tanned skin carry a higher risk of pigment changes.\n\n"
        "I confirm that I have not taken isotretinoin in the last 6 months, and that I will avoid sun "
        "exposure and use sunscreen before and after the treatment.\n\n" + _COMMON),
        ("laser", "ipl", "photofacial", "bbl"), "laser, IPL and BBL / photofacial treatments"),
    BuiltinConsent("peel", "treatment", "Consent to chemical peel", (
        "I consent to the application of a chemical peel to remove damaged outer layers of the skin.\n\n"
        "Possible effects include stinging, redness, peeling, flaking, temporary darkening or lightening "
        "of the skin, cold sore outbreaks, infection and, rarely, scarring.\n\n"
        "I confirm that I have not taken isotretinoin in the last 6 months and have not used retinoids "
        "on the treated area in the last week, and that I will protect the skin from the sun while it "
        "heals.\n\n" + _COMMON),
        ("peel",), "chemical peels"),
    BuiltinConsent("microneedling", "treatment", "Consent to microneedling", (
        "I consent to microneedling: fine needles make controlled micro-injuries in the skin to "
        "stimulate collagen, with or without a serum or radiofrequency.\n\n"
        "Possible effects include redness, swelling, pinpoint bleeding, dryness, tightness, "
        "breakouts, infection, and temporary darkening of the skin.\n\n"
        "I confirm that I do not have an active skin infection in the treated area and have not taken "
        "isotretinoin in the last 6 months.\n\n" + _COMMON),
        ("microneedl", "morpheus", "collagen induction"), "microneedling (also RF microneedling)"),
    BuiltinConsent("general", "treatment", "Consent to aesthetic treatment", (
        "I consent to the aesthetic treatment that was explained to me, performed by the clinic's "
        "trained staff.\n\n"
        "The provider explained what the treatment involves, its expected benefits, its possible side "
        "effects (such as redness, swelling, discomfort, or an allergic reaction to a product used) and "
        "the alternatives, including not being treated.\n\n" + _COMMON)),
    BuiltinConsent("photo_use", "photo_use", "Consent to clinical photographs", (
        "I agree that the clinic takes photographs of the treated areas before and after my treatments. "
        "They are part of my clinical record, are stored securely, and are seen only by the clinical "
        "staff caring for me.\n\n"
        "My choice below says whether the clinic may also use them, without my name, in its marketing "
        "(website, social media, printed material). I can change my mind at any time for future use by "
        "telling the clinic.")),
)
"""Every built-in consent, in the order the settings page lists them."""

BY_KEY = {b.key: b for b in BUILTINS}
PHOTO_USE = "photo_use"
PHOTO_CHOICES = {"clinical": "Clinical record only", "marketing": "Also for marketing (without my name)"}
"""The photo-use consent's choice: stored word -> what the client reads."""
