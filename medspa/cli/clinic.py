"""`medspa clinic create`: a new clinic and its owner's invitation link, for scripted set-ups."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medspa.cli.common import database, fail, say, settings_for, var_dir_option
from medspa.domain.errors import ValidationFailed
from medspa.ops import database as ops_db
from medspa.ops import setup as ops_setup

clinic_app = typer.Typer(help="Clinics on this server.", no_args_is_help=True)


@clinic_app.command("create")
def clinic_create(
    name: str = typer.Option(..., "--name", help="The clinic's name, e.g. 'Glow Aesthetics'."),
    slug: str = typer.Option(..., "--slug", help="Its URL name: /book/<slug> (lower-case letters, digits, dashes)."),
    country: str = typer.Option(..., "--country", help="ISO country code, e.g. US or GB (phone numbers' default)."),
    currency: str = typer.Option(..., "--currency", help="ISO currency code, e.g. USD."),
    location: str = typer.Option(..., "--location", help="The first location's name."),
    time_zone: str = typer.Option(..., "--time-zone", help="The location's IANA time zone, e.g. America/Chicago."),
    owner_email: str = typer.Option(..., "--owner-email", help="The owner's email: the invitation goes there."),
    owner_name: str = typer.Option(..., "--owner-name", help="The owner's name."),
    address: str = typer.Option("", "--address", help="The location's address."),
    phone: str = typer.Option("", "--phone", help="The location's phone number."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Create a clinic with its first location and print the owner's invitation link (also
    emailed when SMTP is set up): the owner opens it to choose a password and two-factor."""
    from medspa.domain.practice.actions import ClinicForm  # heavy (SQLAlchemy): not at `medspa --help`

    settings = settings_for(var_dir)
    form = ClinicForm(name=name, slug=slug, country=country, currency=currency, location_name=location,
                      time_zone=time_zone, owner_name=owner_name, owner_email=owner_email, address=address,
                      phone=phone)
    with database(settings, create=True) as db:
        ops_db.migrate(db)
        try:
            made = ops_setup.create_clinic(settings, db, form)
        except ValidationFailed as exc:
            fail("; ".join(f"--{k.replace('_', '-').replace('location-name', 'location')}: {v}"
                           for k, v in exc.fields.items()))
    say(f"Clinic '{made.slug}' created: booking page {settings.base_url}/book/{made.slug}")
    say(f"Owner's invitation (single use, 7 days): {made.invite_link}")
