"""The product catalog and stock: `products_panel()` (the /settings "Products" tab) and the
`/products` page (owner, manager and provider: product.read; providers open vials there).

Each product is a card: name, manufacturer, category, unit, vial facts for a neuromodulator,
stock in hand, a red "Low stock" badge; its lots (number, expiry, received / used / left,
"Expired" and "Low" flags) with "Open vial" for reconstituted products, and the vials opened
in the last two days with their use-by time. Owners and managers add and edit products,
receive lots and archive products; the rest read.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.product_models import PRODUCT_CATEGORIES, PRODUCT_UNITS
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.inventory.state import LotView, ProductsState, ProductView, VialView

ROUTE = "/products"
S = ProductsState


def _error(key: str) -> rx.Component:
    return rx.cond(S.errors.contains(key), rx.text(S.errors.get(key, ""), size="1", color=rx.color("red", 11),
                                                   class_name="field-error"))


def _vial(v: VialView) -> rx.Component:
    return rx.hstack(
        rx.icon("droplet", size=13, color=rx.cond(v.usable, rx.color("teal", 10), rx.color("gray", 8))),
        rx.text(v.opened, " · ", v.label, size="1", color_scheme="gray"),
        rx.cond(v.usable, rx.badge("In use", color_scheme="teal", size="1", variant="soft"),
                rx.badge("Past use-by", color_scheme="gray", size="1", variant="soft")),
        spacing="2", align="center", class_name="vial-row", padding_left="4px")


def _lot(p: ProductView):
    def row(lot: LotView) -> rx.Component:
        return rx.fragment(
            rx.table.row(
                rx.table.cell(rx.code(lot.lot_number, size="2"), class_name="lot-number"),
                rx.table.cell(rx.text(lot.expires, size="2", color=rx.cond(lot.expired, rx.color("red", 11),
                                                                            "inherit"))),
                rx.table.cell(lot.received, text_align="right"),
                rx.table.cell(lot.used, text_align="right"),
                rx.table.cell(rx.text(lot.left, size="2", weight="bold",
                                      color=rx.cond(lot.low & ~lot.expired, rx.color("red", 11), "inherit")),
                              text_align="right", class_name="lot-left"),
                rx.table.cell(rx.hstack(
                    rx.cond(lot.expired, rx.badge("Expired", color_scheme="red", variant="solid", size="1")),
                    rx.cond(lot.low & ~lot.expired, rx.badge("Low", color_scheme="red", variant="soft", size="1")),
                    rx.cond(~lot.expired & ~lot.low, rx.badge("OK", color_scheme="grass", variant="soft", size="1")),
                    spacing="1")),
                rx.table.cell(rx.cond(S.can_open & p.reconstituted & ~lot.expired & p.active,
                                      rx.button(rx.icon("flask-round", size=13), "Open vial", size="1",
                                                variant="soft", on_click=S.new_vial(lot.id),
                                                class_name="lot-open-vial")), text_align="right"),
                class_name="lot-row", custom_attrs={"data-lot": lot.lot_number},
            ),
            rx.cond(lot.vials.length() > 0,
                    rx.table.row(rx.table.cell(rx.vstack(rx.foreach(lot.vials, _vial), spacing="1"), col_span=7,
                                               padding_top="0"))),
        )
    return row


def _product(p: ProductView) -> rx.Component:
    manage = rx.cond(S.can_manage, rx.hstack(
        rx.cond(p.active, rx.button(rx.icon("package-plus", size=14), "Receive lot", size="1",
                                    on_click=S.new_lot(p.id), class_name="product-receive")),
        rx.button("Edit", size="1", variant="soft", on_click=S.edit_product(p.id), class_name="product-edit"),
        rx.button(rx.cond(p.active, "Archive", "Bring back"), size="1", variant="ghost",
                  color_scheme=rx.cond(p.active, "gray", "teal"), on_click=S.toggle_product(p.id)),
        spacing="2", align="center"))
    return rx.card(rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(rx.heading(p.name, size="4", class_name="product-name"),
                          rx.badge(p.category, variant="outline", size="1"),
                          rx.cond(~p.active, rx.badge("Archived", color_scheme="gray", size="1")),
                          rx.cond(p.low, rx.badge(rx.icon("triangle-alert", size=12), "Low stock", color_scheme="red",
                                                  size="1", class_name="product-low")),
                          spacing="2", align="center", wrap="wrap"),
                rx.text(rx.cond(p.manufacturer != "", p.manufacturer + " · ", ""), "charted in ", p.unit,
                        rx.cond(p.vial_text != "", " · " + p.vial_text, ""), size="2", color_scheme="gray"),
                spacing="1"),
            rx.hstack(rx.text(p.left, size="2", weight="medium", class_name="product-left"), manage, spacing="4",
                      align="center", wrap="wrap"),
            justify="between", align="start", gap="12px", width="100%", wrap="wrap"),
        rx.cond(p.lots.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Lot"), rx.table.column_header_cell("Expires"),
                        rx.table.column_header_cell("Received", text_align="right"),
                        rx.table.column_header_cell("Used", text_align="right"),
                        rx.table.column_header_cell("Left", text_align="right"),
                        rx.table.column_header_cell(""), rx.table.column_header_cell(""))),
                    rx.table.body(rx.foreach(p.lots, _lot(p))), size="1", variant="ghost", width="100%"),
                    width="100%", overflow_x="auto"),
                rx.text("No lots received yet.", size="2", color_scheme="gray")),
        spacing="3", width="100%"), width="100%", class_name="product-card", custom_attrs={"data-product": p.name},
        opacity=rx.cond(p.active, "1", "0.6"))


def _product_dialog() -> rx.Component:
    vial = S.form_category == "neuromodulator"
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(rx.cond(S.product_id > 0, "Edit product", "Add a product")),
        rx.form(rx.vstack(
            rx.text("Name", size="2", weight="medium"),
            rx.input(name="name", default_value=S.form.name, placeholder="e.g. Botox", width="100%",
                     id="product-name", max_length=80),
            _error("name"),
            rx.text("Manufacturer", size="2", weight="medium"),
            rx.input(name="manufacturer", default_value=S.form.manufacturer, placeholder="e.g. Allergan",
                     width="100%", id="product-manufacturer", max_length=80),
            _error("manufacturer"),
            rx.grid(
                rx.vstack(rx.text("Category", size="2", weight="medium"),
                          rx.select.root(rx.select.trigger(width="100%", id="product-category"),
                                         rx.select.content(*[rx.select.item(c.capitalize(), value=c)
                                                             for c in PRODUCT_CATEGORIES]),
                                         value=S.form_category, on_change=S.pick_category),
                          _error("category"), spacing="1"),
                rx.vstack(rx.text("Charted in", size="2", weight="medium"),
                          rx.select.root(rx.select.trigger(width="100%", id="product-unit"),
                                         rx.select.content(*[rx.select.item(u, value=u) for u in PRODUCT_UNITS]),
                                         value=S.form_unit, on_change=S.pick_unit),
                          _error("unit"), spacing="1"),
                columns="2", spacing="3", width="100%"),
            rx.cond(vial, rx.grid(
                rx.vstack(rx.text("Units per vial", size="2", weight="medium"),
                          rx.input(name="units_per_vial", default_value=S.form.units_per_vial, input_mode="numeric",
                                   id="product-units-per-vial"), _error("units_per_vial"), spacing="1"),
                rx.vstack(rx.text("Use within (hours after opening)", size="2", weight="medium"),
                          rx.input(name="beyond_use_hours", default_value=S.form.beyond_use_hours,
                                   input_mode="numeric", id="product-beyond-use"), _error("beyond_use_hours"),
                          spacing="1"),
                columns="2", spacing="3", width="100%")),
            rx.text("Low stock at (", S.form_unit, ")", size="2", weight="medium"),
            rx.input(name="low_stock", default_value=S.form.low_stock, placeholder="e.g. 100", input_mode="decimal",
                     width="160px", id="product-low-stock"),
            rx.text("A lot at or under this figure is flagged low.", size="1", color_scheme="gray"),
            _error("low_stock"),
            rx.flex(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                    rx.button("Save", type="submit", id="product-save"), justify="end", gap="3", width="100%"),
            spacing="2", width="100%"), on_submit=S.save_product, reset_on_submit=False),
        max_width="480px"), open=S.product_open, on_open_change=S.close_dialogs)


def _lot_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Receive a lot"),
        rx.dialog.description(S.lot_product, size="2", color_scheme="gray"),
        rx.form(rx.vstack(
            rx.text("Lot number", size="2", weight="medium"),
            rx.input(name="lot_number", placeholder="as printed on the box, e.g. C3709C3", width="100%",
                     id="lot-number", max_length=40, auto_complete="off"),
            _error("lot_number"),
            rx.grid(
                rx.vstack(rx.text("Expiry date", size="2", weight="medium"),
                          rx.input(name="expires_on", type="date", id="lot-expires"), _error("expires_on"),
                          spacing="1"),
                rx.vstack(rx.text("Quantity received (", S.lot_unit, ")", size="2", weight="medium"),
                          rx.input(name="quantity", placeholder="e.g. 200", input_mode="decimal", id="lot-quantity"),
                          _error("quantity"), spacing="1"),
                columns="2", spacing="3", width="100%"),
            rx.flex(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                    rx.button("Receive", type="submit", id="lot-save"), justify="end", gap="3", width="100%"),
            spacing="2", width="100%"), on_submit=S.receive_lot, reset_on_submit=False),
        max_width="480px"), open=S.lot_open, on_open_change=S.close_dialogs)


def _vial_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Open a vial"),
        rx.dialog.description(S.vial_lot, size="2", color_scheme="gray"),
        rx.form(rx.vstack(
            rx.text("Diluent (mL of saline)", size="2", weight="medium"),
            rx.input(name="diluent", placeholder="e.g. 2.5", input_mode="decimal", width="160px", id="vial-diluent"),
            rx.text("The concentration (units per mL) and the use-by time are worked out and shown on the vial.",
                    size="1", color_scheme="gray"),
            _error("diluent"), _error("lot"),
            rx.flex(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                    rx.button("Open vial now", type="submit", id="vial-save"), justify="end", gap="3", width="100%"),
            spacing="2", width="100%"), on_submit=S.open_vial, reset_on_submit=False),
        max_width="440px"), open=S.vial_open, on_open_change=S.close_dialogs)


def products_panel() -> rx.Component:
    """The catalog: header with the low-stock count and "Add a product", the product cards,
    the three dialogs. Loads itself when shown."""
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.hstack(rx.heading("Products", size="4"),
                          rx.cond(S.low_count > 0, rx.badge(S.low_count.to_string(), " low on stock",
                                                            color_scheme="red", size="2", id="products-low-count")),
                          spacing="3", align="center"),
                rx.text("What you inject and apply: lots with their expiry and stock, opened vials. Charts pick "
                        "from here and deduct what they use when signed.", size="2", color_scheme="gray"),
                spacing="1"),
            rx.hstack(
                rx.cond(S.can_recall, rx.link(rx.hstack(rx.icon("search", size=14), "Lot recall", spacing="1",
                                                        align="center"), href="/recall", size="2",
                                              id="products-recall-link")),
                rx.el.label(rx.switch(checked=S.show_archived, on_change=S.toggle_archived, size="1"),
                            rx.text("Show archived", size="2"), display="flex", align_items="center", gap="8px"),
                rx.cond(S.can_manage, rx.button(rx.icon("plus", size=14), "Add a product", size="2",
                                                on_click=S.new_product, id="product-add")),
                spacing="4", align="center", wrap="wrap"),
            justify="between", align="end", gap="12px", width="100%", wrap="wrap"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="circle-check", color_scheme="grass", size="1",
                                           width="100%", id="products-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red", size="1", width="100%")),
        rx.cond(S.shown.length() > 0, rx.foreach(S.shown, _product),
                rx.card(rx.text("No products yet. Add the products you use, then receive their lots.", size="2",
                                color_scheme="gray"), width="100%")),
        _product_dialog(), _lot_dialog(), _vial_dialog(),
        spacing="3", width="100%", on_mount=S.load_products, id="products-panel")


def products_page() -> rx.Component:
    """/products: the panel under the staff header, or "not found" without product.read."""
    return rx.box(
        rx.cond(S.status == "not_found", not_found_view("products-not-found"),
                rx.fragment(staff_header("products"),
                            rx.box(products_panel(), padding="20px", width="100%", max_width="1100px",
                                   margin_x="auto"))),
        min_height="100vh", background=rx.color("gray", 2), id="products-page")


def register(app: rx.App) -> None:
    """Add /products (owner, manager, provider)."""
    app.add_page(products_page, route=ROUTE, title="Products · medspa", on_load=S.require_staff)
