"""Static content of the demo clinics: locations, staff, rooms, devices, services, names.

Everything here is plain data; `medspa.demo.seed` turns it into rows. Prices and deposits
are integer cents (or pence for the London clinic). Phone numbers are in fictional ranges
(North America 555-0100..0199, UK Ofcom drama range 020 7946 0xxx); e-mail addresses use
the reserved example.com / example.org domains only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocationSpec:
    key: str
    name: str
    time_zone: str
    cancellation_window_hours: int
    address: str
    phone: str
    area_codes: tuple[str, ...]  # client phones near this location (+1 <code> 555 01xx)
    country_prefix: str = "+1"


KIND_LICENCE = {"md": "MD", "np": "NP", "rn": "RN", "esth": "aesthetician", "laser": "other"}
"""A demo provider's licence by skill group (issue 18: MD and NP prescribe; RNs inject under their orders)."""


@dataclass(frozen=True)
class StaffSpec:
    name: str
    role: str  # owner, manager, provider, front_desk
    title: str
    kind: str = ""  # provider skill group: md, np, rn, esth, laser
    color: str = "#7c5cbf"
    # weekday (0 = Monday) -> (location key, "HH:MM" start, "HH:MM" end), wall-clock time
    hours: dict[int, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceSpec:
    location: str
    kind: str  # room or device
    name: str
    resource_type: str


@dataclass(frozen=True)
class ServiceSpec:
    key: str
    category: str
    name: str
    duration: int
    price_cents: int
    deposit_cents: int
    skills: frozenset[str]
    before: int = 0
    after: int = 0
    room_type: str | None = None
    device_type: str | None = None
    weight: float = 1.0  # popularity for walk-in / one-off bookings
    description: str = ""
    min_notice_minutes: int = 120


@dataclass(frozen=True)
class UserSpec:
    email_local: str  # e-mail is <local>@<slug>.clinic
    password_role: str  # password is <prefix>-<password_role>-2026
    role: str
    staff_name: str


@dataclass(frozen=True)
class Program:
    """A client's recurring treatment plan: what, how often, how loyal.

    interval_days: days between visits; series: visits before the plan slows down to
    maintenance_days (None: the plan ends after the series); rebook_p: share of visits where
    the next one is booked at checkout; continue_p: chance the client comes back at all.
    """

    key: str
    services: dict[str, float]
    interval_days: tuple[int, int]
    share: float  # share of clients with this plan
    rebook_p: float
    continue_p: float = 0.9
    series: int | None = None
    maintenance_days: tuple[int, int] | None = None
    needs_consult: bool = False
    time_of_day: str = ""


# ---------------------------------------------------------------------------------------
# Lumière Aesthetics (slug "demo"): two coasts, twelve providers
# ---------------------------------------------------------------------------------------

DEMO_LOCATIONS = (
    LocationSpec("ny", "Lumière — SoHo, New York", "America/New_York", 24,
                 "148 Spring Street, 2nd floor, New York, NY 10012", "+12125550100",
                 ("212", "646", "917", "718", "347", "929", "332", "201", "914", "516", "973", "551", "862",
                  "908", "732", "848", "631", "203", "845", "934", "680")),
    LocationSpec("la", "Lumière — Santa Monica", "America/Los_Angeles", 48,
                 "1320 Montana Avenue, Santa Monica, CA 90403", "+13105550100",
                 ("310", "424", "213", "323", "818", "747", "626", "949", "714", "562", "805", "657", "909",
                  "951", "661", "760", "442", "840", "858", "619", "916")),
)

_TUE_SAT = (1, 2, 3, 4, 5)

DEMO_STAFF = (
    StaffSpec("Natalie Laurent", "owner", "Owner", color="#2f2a3a"),
    StaffSpec("Rachel Goldberg", "manager", "Practice Manager", color="#4b5563"),
    StaffSpec("Tyler Nguyen", "front_desk", "Front Desk Coordinator — SoHo", color="#64748b"),
    StaffSpec("Brianna Diaz", "front_desk", "Front Desk Coordinator — Santa Monica", color="#94a3b8"),
    StaffSpec("Priya Shah", "lab", "Lab Technician", color="#0e7490"),
    # providers -------------------------------------------------------------------------
    StaffSpec("Dr. Elena Marchetti", "provider", "MD, Medical Director", "md", "#7c3aed",
              {0: ("ny", "09:00", "17:00"), 2: ("ny", "09:00", "17:00"),
               3: ("la", "10:00", "18:00"), 4: ("la", "09:00", "16:00")}),
    StaffSpec("Priya Raman", "provider", "NP, Nurse Practitioner", "np", "#db2777",
              {d: ("ny", "10:00", "18:00") for d in _TUE_SAT}),
    StaffSpec("Jessica Alvarez", "provider", "RN, Nurse Injector", "rn", "#ea580c",
              {**{d: ("ny", "12:00", "20:00") for d in (0, 1, 2, 3)}, 6: ("ny", "11:00", "17:00")}),
    StaffSpec("Marcus Chen", "provider", "RN, Nurse Injector", "rn", "#0891b2",
              {2: ("ny", "09:00", "17:00"), 3: ("ny", "09:00", "17:00"),
               4: ("ny", "09:00", "17:00"), 5: ("ny", "09:00", "15:00")}),
    StaffSpec("Olivia Bennett", "provider", "RN, Nurse Injector", "rn", "#16a34a",
              {0: ("ny", "10:00", "18:00"), 1: ("ny", "10:00", "18:00"),
               3: ("la", "10:00", "18:00"), 4: ("la", "10:00", "18:00"), 5: ("la", "09:00", "14:00")}),
    StaffSpec("Aisha Okafor", "provider", "Licensed Aesthetician", "esth", "#ca8a04",
              {d: ("ny", "09:00", "17:00") for d in _TUE_SAT}),
    StaffSpec("Sofia Rossi", "provider", "Licensed Aesthetician", "esth", "#be123c",
              {0: ("ny", "11:00", "19:00"), 2: ("ny", "11:00", "19:00"),
               4: ("ny", "11:00", "19:00"), 5: ("ny", "09:00", "15:00")}),
    StaffSpec("Daniel Kim", "provider", "Laser Technician", "laser", "#2563eb",
              {1: ("ny", "10:00", "18:00"), 2: ("ny", "10:00", "18:00"), 3: ("ny", "12:00", "20:00"),
               4: ("ny", "10:00", "18:00"), 5: ("ny", "09:00", "15:00")}),
    StaffSpec("Hannah Brooks", "provider", "NP, Nurse Practitioner", "np", "#9333ea",
              {d: ("la", "09:00", "17:00") for d in _TUE_SAT}),
    StaffSpec("Camila Reyes", "provider", "RN, Nurse Injector", "rn", "#e11d48",
              {**{d: ("la", "11:00", "19:00") for d in (0, 1, 2, 3)}, 6: ("la", "11:00", "17:00")}),
    StaffSpec("Mei Tanaka", "provider", "Licensed Aesthetician", "esth", "#0d9488",
              {d: ("la", "10:00", "18:00") for d in _TUE_SAT}),
    StaffSpec("Jordan Patel", "provider", "Laser Technician", "laser", "#4f46e5",
              {0: ("la", "09:00", "17:00"), 2: ("la", "09:00", "17:00"), 4: ("la", "12:00", "20:00"),
               5: ("la", "09:00", "14:00")}),
)

DEMO_USERS = (
    UserSpec("owner", "owner", "owner", "Natalie Laurent"),
    UserSpec("manager", "manager", "manager", "Rachel Goldberg"),
    UserSpec("frontdesk", "desk", "front_desk", "Tyler Nguyen"),
    UserSpec("nurse", "nurse", "provider", "Jessica Alvarez"),
    UserSpec("director", "director", "provider", "Dr. Elena Marchetti"),  # the medical director: co-signs (/reviews)
    UserSpec("lab", "lab", "lab", "Priya Shah"),
)

DEMO_RESOURCES = (
    ResourceSpec("ny", "room", "Treatment Room 1", "treatment_room"),
    ResourceSpec("ny", "room", "Treatment Room 2", "treatment_room"),
    ResourceSpec("ny", "room", "Treatment Room 3", "treatment_room"),
    ResourceSpec("ny", "room", "Laser Suite A", "laser_suite"),
    ResourceSpec("ny", "room", "Laser Suite B", "laser_suite"),
    ResourceSpec("ny", "room", "Facial Room 1", "facial_room"),
    ResourceSpec("ny", "room", "Facial Room 2", "facial_room"),
    ResourceSpec("ny", "device", "GentleMax Pro (Alexandrite/Nd:YAG)", "laser_alexandrite"),
    ResourceSpec("ny", "device", "Sciton BBL HERO", "ipl_bbl"),
    ResourceSpec("ny", "device", "HydraFacial Syndeo #1", "hydrafacial"),
    ResourceSpec("ny", "device", "HydraFacial Syndeo #2", "hydrafacial"),
    ResourceSpec("ny", "device", "CoolSculpting Elite", "cryolipolysis"),
    ResourceSpec("ny", "device", "SkinPen Precision #1", "microneedling_pen"),
    ResourceSpec("ny", "device", "SkinPen Precision #2", "microneedling_pen"),
    ResourceSpec("la", "room", "Treatment Room 1", "treatment_room"),
    ResourceSpec("la", "room", "Treatment Room 2", "treatment_room"),
    ResourceSpec("la", "room", "Laser Suite", "laser_suite"),
    ResourceSpec("la", "room", "Facial Room", "facial_room"),
    ResourceSpec("la", "device", "GentleMax Pro (Alexandrite/Nd:YAG)", "laser_alexandrite"),
    ResourceSpec("la", "device", "Sciton BBL HERO", "ipl_bbl"),
    ResourceSpec("la", "device", "HydraFacial Syndeo", "hydrafacial"),
    ResourceSpec("la", "device", "CoolSculpting Elite", "cryolipolysis"),
    ResourceSpec("la", "device", "SkinPen Precision", "microneedling_pen"),
)

INJECTORS = frozenset({"md", "np", "rn"})
ADVANCED_INJECTORS = frozenset({"md", "np"})

DEMO_SERVICES = (
    # Neuromodulators ------------------------------------------------------------------
    ServiceSpec("botox20", "Neuromodulators", "Botox — up to 20 units", 30, 30000, 5000, INJECTORS,
                0, 10, "treatment_room", weight=6,
                description="Forehead lines or crow's feet with onabotulinumtoxinA; results in 3-14 days."),
    ServiceSpec("botox40", "Neuromodulators", "Botox — up to 40 units", 45, 56000, 5000, INJECTORS,
                0, 10, "treatment_room", weight=3,
                description="Two or three areas (forehead, frown lines, crow's feet)."),
    ServiceSpec("dysport", "Neuromodulators", "Dysport — up to 60 units", 30, 33000, 5000, INJECTORS,
                0, 10, "treatment_room", weight=3,
                description="AbobotulinumtoxinA for frown lines; spreads a little wider than Botox."),
    ServiceSpec("lipflip", "Neuromodulators", "Lip flip (4-6 units)", 15, 12000, 0, INJECTORS,
                0, 10, "treatment_room", weight=1,
                description="A few units along the upper lip for a subtle lift."),
    # Dermal fillers -------------------------------------------------------------------
    ServiceSpec("lipfill", "Dermal fillers", "Lip filler — 1 syringe", 60, 75000, 10000, INJECTORS,
                5, 10, "treatment_room", weight=3,
                description="Hyaluronic acid filler (Juvéderm Ultra XC or Restylane Kysse), numbing included."),
    ServiceSpec("cheek", "Dermal fillers", "Cheek filler — 2 syringes", 60, 160000, 20000, INJECTORS,
                5, 10, "treatment_room", weight=1,
                description="Mid-face volume with Juvéderm Voluma XC."),
    ServiceSpec("tear", "Dermal fillers", "Under-eye filler (tear trough)", 60, 85000, 10000,
                ADVANCED_INJECTORS, 5, 10, "treatment_room", weight=1,
                description="Restylane-L or Belotero Balance for hollows under the eyes; NP or MD only."),
    ServiceSpec("jaw", "Dermal fillers", "Jawline & chin filler — 2 syringes", 75, 170000, 20000,
                INJECTORS, 5, 10, "treatment_room", weight=1,
                description="Definition along the jawline and chin projection (Juvéderm Volux)."),
    # Laser hair removal ---------------------------------------------------------------
    ServiceSpec("lhr_s", "Laser hair removal", "Laser hair removal — small area", 15, 15000, 0,
                frozenset({"laser", "np"}), 5, 5, "laser_suite", "laser_alexandrite", weight=3,
                description="Upper lip, chin or underarms. GentleMax Pro, series of 6-8 sessions."),
    ServiceSpec("lhr_m", "Laser hair removal", "Laser hair removal — medium area", 30, 27500, 5000,
                frozenset({"laser", "np"}), 5, 5, "laser_suite", "laser_alexandrite", weight=3,
                description="Bikini line, lower face, neck or forearms."),
    ServiceSpec("lhr_l", "Laser hair removal", "Laser hair removal — large area", 60, 45000, 7500,
                frozenset({"laser", "np"}), 5, 10, "laser_suite", "laser_alexandrite", weight=2,
                description="Full legs, back or chest."),
    # IPL photofacial ------------------------------------------------------------------
    ServiceSpec("bbl_face", "IPL photofacial", "BBL photofacial — full face", 45, 45000, 7500,
                frozenset({"laser", "np", "md"}), 5, 10, "laser_suite", "ipl_bbl", weight=2,
                description="Sciton BBL HERO for sun spots, redness and broken capillaries."),
    ServiceSpec("bbl_fn", "IPL photofacial", "BBL photofacial — face & neck", 60, 60000, 10000,
                frozenset({"laser", "np", "md"}), 5, 10, "laser_suite", "ipl_bbl", weight=1),
    ServiceSpec("bbl_chest", "IPL photofacial", "BBL — chest (décolleté)", 30, 35000, 5000,
                frozenset({"laser", "np", "md"}), 5, 10, "laser_suite", "ipl_bbl", weight=1),
    # Microneedling --------------------------------------------------------------------
    ServiceSpec("mn", "Microneedling", "SkinPen microneedling — face", 60, 40000, 7500,
                frozenset({"esth", "rn", "np", "md"}), 10, 15, "treatment_room", "microneedling_pen",
                weight=2, description="Collagen induction for texture and acne scars; 45 min numbing included."),
    ServiceSpec("mn_prp", "Microneedling", "Microneedling with PRP", 90, 75000, 10000,
                frozenset({"rn", "np", "md"}), 10, 15, "treatment_room", "microneedling_pen", weight=1,
                description="SkinPen with platelet-rich plasma from your own blood draw."),
    # Chemical peels -------------------------------------------------------------------
    ServiceSpec("vi", "Chemical peels", "VI Peel", 30, 37500, 5000, frozenset({"esth", "np"}),
                5, 10, "facial_room", weight=2,
                description="Medium-depth peel for pigment and acne; take-home kit included."),
    ServiceSpec("glyco", "Chemical peels", "Glycolic peel", 30, 15000, 0, frozenset({"esth"}),
                5, 10, "facial_room", weight=2),
    ServiceSpec("jessner", "Chemical peels", "Jessner peel", 45, 22500, 5000, frozenset({"esth"}),
                5, 10, "facial_room", weight=1),
    # HydraFacial -----------------------------------------------------------------------
    ServiceSpec("hf_sig", "HydraFacial", "HydraFacial Signature", 30, 19900, 0, frozenset({"esth"}),
                5, 10, "facial_room", "hydrafacial", weight=6,
                description="Cleanse, extract and hydrate with the Syndeo."),
    ServiceSpec("hf_dlx", "HydraFacial", "HydraFacial Deluxe", 45, 27900, 5000, frozenset({"esth"}),
                5, 10, "facial_room", "hydrafacial", weight=4,
                description="Signature plus a booster serum and LED light therapy."),
    ServiceSpec("hf_plat", "HydraFacial", "HydraFacial Platinum", 60, 34900, 5000, frozenset({"esth"}),
                5, 10, "facial_room", "hydrafacial", weight=2,
                description="Deluxe plus lymphatic drainage."),
    # Body contouring ------------------------------------------------------------------
    ServiceSpec("cs1", "Body contouring", "CoolSculpting Elite — 1 cycle", 60, 85000, 15000,
                frozenset({"laser", "rn", "md"}), 10, 15, "treatment_room", "cryolipolysis", weight=1,
                description="One 35-minute applicator cycle (abdomen, flanks or thighs)."),
    ServiceSpec("cs2", "Body contouring", "CoolSculpting Elite — 2 cycles", 105, 160000, 25000,
                frozenset({"laser", "rn", "md"}), 10, 15, "treatment_room", "cryolipolysis", weight=1,
                description="Two cycles in one visit, e.g. both flanks."),
    # Consultations --------------------------------------------------------------------
    ServiceSpec("consult", "Consultations", "Aesthetic consultation", 30, 0, 0,
                INJECTORS, 0, 5, "treatment_room", weight=2, min_notice_minutes=60,
                description="Free 30-minute consultation with a nurse injector or our medical director."),
    ServiceSpec("skin_consult", "Consultations", "Skin & laser consultation", 30, 0, 0,
                frozenset({"esth", "laser"}), 0, 5, "facial_room", weight=1, min_notice_minutes=60,
                description="Free skin analysis and laser patch test."),
)

DEMO_PROGRAMS = (
    Program("neuro", {"botox20": .45, "botox40": .2, "dysport": .25, "lipflip": .1},
            (84, 119), share=.58, rebook_p=.4, continue_p=.9),
    Program("filler", {"lipfill": .45, "cheek": .2, "tear": .15, "jaw": .2}, (150, 300),
            share=.28, rebook_p=.2, continue_p=.8, needs_consult=True),
    Program("lhr", {"lhr_s": .4, "lhr_m": .35, "lhr_l": .25}, (35, 56), share=.24, rebook_p=.6,
            continue_p=.93, series=7),
    Program("hydra", {"hf_sig": .5, "hf_dlx": .35, "hf_plat": .15}, (28, 49), share=.34,
            rebook_p=.35, continue_p=.9),
    Program("bbl", {"bbl_face": .55, "bbl_fn": .3, "bbl_chest": .15}, (28, 35), share=.14,
            rebook_p=.5, continue_p=.9, series=3, maintenance_days=(150, 210)),
    Program("mn", {"mn": .75, "mn_prp": .25}, (28, 42), share=.14, rebook_p=.45, continue_p=.88,
            series=3, maintenance_days=(120, 180)),
    Program("peel", {"vi": .35, "glyco": .4, "jessner": .25}, (42, 70), share=.18, rebook_p=.25,
            continue_p=.85),
    Program("cool", {"cs1": .5, "cs2": .5}, (56, 70), share=.07, rebook_p=.6, continue_p=.9,
            series=2, needs_consult=True),
)

# ---------------------------------------------------------------------------------------
# The second clinic (slug "other"): one London location, for tenant-isolation tests
# ---------------------------------------------------------------------------------------

OTHER_LOCATIONS = (
    LocationSpec("ldn", "Marylebone Skin Studio", "Europe/London", 24,
                 "41 Marylebone High Street, London W1U 5HD", "+442079460100", ("2079460",),
                 country_prefix="+44"),
)

OTHER_STAFF = (
    StaffSpec("Imogen Clarke", "owner", "Owner", color="#1f2937"),
    StaffSpec("Charlotte Hughes", "provider", "RN, Nurse Injector", "rn", "#be185d",
              {d: ("ldn", "09:00", "17:00") for d in (1, 2, 3, 4)}),
    StaffSpec("Amara Mensah", "provider", "Licensed Aesthetician", "esth", "#0f766e",
              {d: ("ldn", "10:00", "18:00") for d in (0, 2, 4, 5)}),
)

OTHER_USERS = (UserSpec("owner", "owner", "owner", "Imogen Clarke"),)

OTHER_RESOURCES = (
    ResourceSpec("ldn", "room", "Treatment Room", "treatment_room"),
    ResourceSpec("ldn", "room", "Facial Room", "facial_room"),
    ResourceSpec("ldn", "device", "HydraFacial Syndeo", "hydrafacial"),
)

OTHER_SERVICES = (
    ServiceSpec("antiwrinkle", "Neuromodulators", "Anti-wrinkle injections — 3 areas", 30, 25000, 5000,
                frozenset({"rn"}), 0, 10, "treatment_room", weight=3),
    ServiceSpec("hf_sig", "HydraFacial", "HydraFacial Signature", 45, 15000, 0, frozenset({"esth"}),
                5, 10, "facial_room", "hydrafacial", weight=3),
    ServiceSpec("consult", "Consultations", "Skin consultation", 30, 0, 0, frozenset({"rn", "esth"}),
                0, 5, "treatment_room", weight=1, min_notice_minutes=60),
)

# ---------------------------------------------------------------------------------------
# Names (a diverse mix; clients of med spas are mostly, not only, women)
# ---------------------------------------------------------------------------------------

FIRST_NAMES_F = (
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Ella", "Elizabeth", "Camila", "Luna", "Sofia", "Avery", "Scarlett", "Victoria", "Madison",
    "Aria", "Grace", "Chloe", "Penelope", "Riley", "Layla", "Zoey", "Nora", "Lily", "Eleanor",
    "Hannah", "Lillian", "Addison", "Aubrey", "Ellie", "Stella", "Natalie", "Leah", "Hazel", "Violet",
    "Aurora", "Savannah", "Audrey", "Brooklyn", "Bella", "Claire", "Skylar", "Lucy", "Paisley", "Anna",
    "Jennifer", "Jessica", "Ashley", "Sarah", "Stephanie", "Nicole", "Melissa", "Rachel", "Lauren",
    "Megan", "Amanda", "Danielle", "Michelle", "Kimberly", "Rebecca", "Christina", "Katherine",
    "Priya", "Ananya", "Aaliyah", "Imani", "Keisha", "Jasmine", "Tiana", "Nia", "Zara", "Fatima",
    "Aisha", "Yasmin", "Leila", "Noor", "Mariam", "Sana", "Mei", "Yuki", "Hana", "Ji-woo", "Min-ji",
    "Linh", "Mai", "Thao", "Ximena", "Valentina", "Gabriela", "Lucía", "Daniela", "Mariana", "Alejandra",
    "Paola", "Renata", "Ingrid", "Freya", "Astrid", "Chiara", "Giulia", "Francesca", "Sienna", "Margaux",
    "Chloé", "Amélie", "Dana", "Tamar", "Shira", "Adaeze", "Chiamaka", "Ngozi", "Esi", "Ama", "Kalani",
    "Leilani", "Maya", "Naomi", "Ruth", "Diana", "Vanessa", "Monica", "Erica", "Tara", "Kendra",
)

FIRST_NAMES_M = (
    "James", "Michael", "David", "Daniel", "Matthew", "Andrew", "Ryan", "Kevin", "Brian", "Jason",
    "Chris", "Ethan", "Noah", "Lucas", "Mateo", "Diego", "Carlos", "Javier", "Omar", "Karim", "Yusuf",
    "Raj", "Arjun", "Vikram", "Hiroshi", "Kenji", "Min-jun", "Wei", "Kofi", "Emeka", "Andre", "Marcus",
    "Jamal", "Darnell", "Elijah", "Julian", "Adrian", "Nikolai", "Luca", "Theo",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Kim", "Park", "Choi", "Chen", "Wang", "Liu", "Zhang", "Huang", "Wu", "Lin", "Tanaka", "Sato",
    "Suzuki", "Watanabe", "Nakamura", "Tran", "Pham", "Le", "Vo", "Patel", "Shah", "Mehta", "Iyer",
    "Reddy", "Kapoor", "Singh", "Gupta", "Khan", "Ahmed", "Hassan", "Haddad", "Nasser", "Farah",
    "Okafor", "Adeyemi", "Mensah", "Boateng", "Okonkwo", "Diallo", "Abebe", "Kamau", "Cohen", "Levy",
    "Friedman", "Goldberg", "Rosen", "Katz", "O'Brien", "Murphy", "Kelly", "Sullivan", "Byrne", "Rossi",
    "Russo", "Ferrari", "Esposito", "Romano", "Bianchi", "Costa", "Silva", "Santos", "Oliveira", "Pereira",
    "Dubois", "Laurent", "Moreau", "Lefebvre", "Müller", "Schmidt", "Schneider", "Fischer", "Weber",
    "Novak", "Kowalski", "Nowak", "Ivanova", "Petrova", "Popescu", "Nielsen", "Hansen", "Johansson",
    "Larsen", "Andersen", "Papadopoulos", "Georgiou", "Yilmaz", "Demir", "Kaya", "Castillo", "Morales",
    "Ortiz", "Gutierrez", "Chavez", "Ramos", "Ruiz", "Mendoza", "Vargas", "Jimenez", "Alvarez", "Romero",
    "Washington", "Jefferson", "Brooks", "Coleman", "Bailey", "Reed", "Price", "Bennett", "Hughes", "Foster",
)

TEST_CARD_LAST4 = ("4242", "4242", "4242", "4444", "0005", "1117", "5556")

# Shortest sensible gap between two visits of one client in a category (days): nobody gets
# Botox twice in a month. One-off visits respect it; treatment plans have their own cadence.
CATEGORY_SPACING_DAYS = {
    "Neuromodulators": 75,
    "Dermal fillers": 42,
    "Laser hair removal": 28,
    "IPL photofacial": 21,
    "Microneedling": 21,
    "Chemical peels": 21,
    "HydraFacial": 14,
    "Body contouring": 42,
    "Consultations": 90,
}
