"""The built-in intake form templates (issue 17, section 2): pure data, no database.

Choice made here: templates are Python data, the same for every clinic (no per-clinic rows
yet); each has a `version` number stored on every response, so an answer always names the
exact questions it answered. A service needs the forms of its category (CATEGORY_FORMS,
matched on words of the category name, case-insensitive); every visit also needs the
"Medical history update" unless the client submitted one in the HISTORY_VALID_DAYS before
the visit's start (forms.py applies that rule).

Field kinds: "text" (one line, at most 200 characters), "long_text" (at most 2,000), "yes_no"
("yes" | "no"), "choice" (one of `choices`' values), "date" (ISO "YYYY-MM-DD"; `past_only`:
not after today). Answers are stored as those strings ("" = not answered).
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, LONG_TEXT, YES_NO, CHOICE, DATE = "text", "long_text", "yes_no", "choice", "date"
KINDS = (TEXT, LONG_TEXT, YES_NO, CHOICE, DATE)
MAX_LENGTH = {TEXT: 200, LONG_TEXT: 2000}
YES_NO_CHOICES = (("yes", "Yes"), ("no", "No"))

MEDICAL_HISTORY = "medical_history"
HISTORY_VALID_DAYS = 365
"""A medical history update is good for 12 months: a visit needs a new one when the client's
latest was submitted more than this many days before the visit starts."""


@dataclass(frozen=True)
class FormField:
    """One question: key (stable, stored in the answers), label, kind (KINDS), required, help
    text under the label, choices ((value, label) pairs for "choice"), past_only for dates."""

    key: str
    label: str
    kind: str
    required: bool = False
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    past_only: bool = False

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        """The (value, label) pairs a client picks from (yes/no included)."""
        return YES_NO_CHOICES if self.kind == YES_NO else self.choices


@dataclass(frozen=True)
class FormTemplate:
    """A built-in form: key, title, version, a one-line intro and its fields in order."""

    key: str
    title: str
    version: int
    intro: str
    fields: tuple[FormField, ...]

    def field(self, key: str) -> FormField | None:
        """The field called `key`, or None."""
        return next((f for f in self.fields if f.key == key), None)


_LINES = "One per line."
SUN = (("low", "Low: mostly indoors"), ("moderate", "Moderate: some time outdoors"),
       ("high", "High: outdoors most days"))
FITZ = (("I", "I: always burns, never tans"), ("II", "II: usually burns, tans a little"),
        ("III", "III: sometimes burns, tans gradually"), ("IV", "IV: rarely burns, tans easily"),
        ("V", "V: very rarely burns, tans very easily"), ("VI", "VI: never burns"),
        ("not_sure", "Not sure"))

TEMPLATES: dict[str, FormTemplate] = {t.key: t for t in (
    FormTemplate(MEDICAL_HISTORY, "Medical history update", 1,
                 "Your provider reviews this before treating you. It stays in your private medical record.", (
        FormField("allergies_any", "Do you have any allergies (medicines, anaesthetics, foods, latex)?", YES_NO, True),
        FormField("allergies", "Your allergies and what happens", LONG_TEXT,
                  help="One per line, e.g. \"Lidocaine - hives\"."),
        FormField("medications_any", "Do you take any medicines or supplements?", YES_NO, True),
        FormField("medications", "Your medicines and doses", LONG_TEXT,
                  help="One per line, e.g. \"Ibuprofen, 200 mg\"."),
        FormField("isotretinoin_stopped", "If you took isotretinoin (Accutane), when did you stop?", DATE,
                  help="Leave empty if you never took it.", past_only=True),
        FormField("conditions", "Medical conditions", LONG_TEXT, help=_LINES + " E.g. diabetes, cold sores."),
        FormField("pregnant", "Are you pregnant or trying to become pregnant?", YES_NO, True),
        FormField("breastfeeding", "Are you breastfeeding?", YES_NO, True),
        FormField("fitzpatrick", "How does your skin react to the sun?", CHOICE, choices=FITZ),
        FormField("previous_treatments", "Previous aesthetic treatments", LONG_TEXT,
                  help="One per line, e.g. \"Botox - March 2026\"."),
        FormField("sun_exposure", "How much sun do you get?", CHOICE, choices=SUN),
        FormField("smoking", "Do you smoke or vape?", YES_NO, True),
        FormField("goals", "What would you like to achieve?", LONG_TEXT),
    )),
    FormTemplate("neuromodulator", "Neuromodulator intake", 1,
                 "A few questions before your wrinkle-relaxing injections.", (
        FormField("areas", "Which areas would you like treated?", TEXT, True, "E.g. forehead, frown lines."),
        FormField("previous_toxin", "Have you had Botox, Dysport or a similar treatment before?", YES_NO, True),
        FormField("last_toxin", "When was your last treatment?", DATE, past_only=True),
        FormField("neuromuscular", "Do you have a neuromuscular condition (e.g. myasthenia gravis)?", YES_NO, True),
        FormField("blood_thinners", "Do you take blood thinners, aspirin or fish oil?", YES_NO, True),
        FormField("event", "An upcoming event we should plan around", DATE,
                  help="Results show in 1 to 2 weeks."),
    )),
    FormTemplate("filler", "Filler intake", 1, "A few questions before your dermal filler treatment.", (
        FormField("areas", "Which areas would you like treated?", TEXT, True, "E.g. lips, cheeks, under-eyes."),
        FormField("previous_filler", "Have you had filler before?", YES_NO, True),
        FormField("filler_details", "If yes: which product, where and when?", LONG_TEXT,
                  help="Leave empty if you have not had filler before."),
        FormField("cold_sores", "Do you get cold sores?", YES_NO, True, "We may suggest a preventive medicine for lips."),
        FormField("dental", "Dental work planned in the two weeks around your visit?", YES_NO, True),
        FormField("blood_thinners", "Do you take blood thinners, aspirin or fish oil?", YES_NO, True),
    )),
    FormTemplate("laser", "Laser intake", 1, "A few questions before your laser or light treatment.", (
        FormField("area", "Which area is being treated?", TEXT, True),
        FormField("tan", "Have you tanned (sun, bed or self-tanner) recently?", CHOICE, True, choices=(
            ("none", "No"), ("two_weeks", "Yes, in the last 2 weeks"), ("four_weeks", "Yes, 2 to 4 weeks ago"))),
        FormField("photosensitive", "Do you take medicines that make you sensitive to light?", YES_NO, True,
                  "E.g. some antibiotics (doxycycline), St John's wort."),
        FormField("isotretinoin_recent", "Isotretinoin (Accutane) in the last 6 months?", YES_NO, True),
        FormField("tattoos", "Tattoos or permanent make-up in the area?", YES_NO),
    )),
    FormTemplate("peel", "Chemical peel intake", 1, "A few questions before your chemical peel.", (
        FormField("concern", "What would you like to improve?", CHOICE, True, choices=(
            ("acne", "Acne"), ("pigmentation", "Pigmentation or sun spots"), ("texture", "Texture or pores"),
            ("lines", "Fine lines"), ("other", "Something else"))),
        FormField("retinoids", "Retinol or tretinoin in the last 7 days?", YES_NO, True),
        FormField("isotretinoin_recent", "Isotretinoin (Accutane) in the last 6 months?", YES_NO, True),
        FormField("waxing", "Waxing or laser on the face in the last 7 days?", YES_NO, True),
        FormField("cold_sores", "Do you get cold sores?", YES_NO, True),
    )),
)}

CATEGORY_FORMS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("neuromodulator", "toxin", "botox", "anti-wrinkle"), "neuromodulator"),
    (("filler",), "filler"),
    (("laser", "ipl", "photofacial", "bbl"), "laser"),
    (("peel",), "peel"),
)
"""Category defaults: a service whose category names one of the words needs that form."""


def service_forms(category: str) -> tuple[str, ...]:
    """The template keys a service of `category` needs besides the medical history update
    ("Neuromodulators" -> ("neuromodulator",); "HydraFacial" -> ())."""
    name = (category or "").lower()
    return tuple(key for words, key in CATEGORY_FORMS if any(w in name for w in words))


def template(key: str) -> FormTemplate | None:
    """The built-in template called `key`, or None."""
    return TEMPLATES.get(key) if isinstance(key, str) else None
