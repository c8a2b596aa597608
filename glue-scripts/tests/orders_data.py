"""Sample orders of two runs, in the landing shape and exploded to the staging shape."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Dict, List

import orders_schema


def _ts(text: str) -> datetime.datetime:
    """A naive UTC timestamp, as Spark and the warehouse hold them."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")


def _order(order_id, placed, processed, run_id, products) -> Dict:
    return {
        "order_id": order_id, "order_timestamp": _ts(placed), "customer_id": "c-" + order_id[-3:],
        "order_status": "PLACED", "payment_method": "CARD", "currency": "EUR", "shipping_country": "DE",
        "products": products, "processing_timestamp": _ts(processed), "run_id": run_id,
        "processing_date": processed[:10], "processing_hour": processed[11:13],
    }


def _product(code, quantity, price) -> Dict:
    return {"product_code": code, "product_name": "Product " + code, "category": "books",
            "quantity": quantity, "unit_price": Decimal(price)}


RUN_A = "run-20261128T0100Z"
RUN_B = "run-20261128T0200Z"

ORDERS: List[Dict] = [
    _order("bee482f1-833c-4395-9d85-0ca6b963d6e7", "2026-11-28T00:59:58.250000", "2026-11-28T01:00:03.900000", RUN_A,
           [_product("P-001", 2, "19.99"), _product("P-002", 1, "5.00"), _product("P-003", 3, "0.10")]),
    _order("a1000000-0000-0000-0000-000000000002", "2026-11-28T01:10:00.000000", "2026-11-28T01:10:10.000000", RUN_A,
           [_product("P-004", 10, "1.25")]),
    # An order without products produces no staging row and counts 0.
    _order("a1000000-0000-0000-0000-000000000003", "2026-11-28T01:20:00.000000", "2026-11-28T01:20:01.000000", RUN_A, []),
    _order("b2000000-0000-0000-0000-000000000001", "2026-11-29T23:59:59.999000", "2026-11-30T00:00:02.000000", RUN_B,
           [_product("P-001", 1, "19.99"), _product("P-005", 4, "250.00")]),
]


def exploded(orders: List[Dict]) -> List[Dict]:
    """Staging rows of the orders, as the landing-to-staging job writes them."""
    rows = []
    for order in orders:
        for index, product in enumerate(order["products"]):
            row = {c: order[c] for c in orders_schema.ORDER_COLUMNS + orders_schema.PROCESSING_COLUMNS
                   + orders_schema.PARTITION_COLUMNS}
            row.update(product)
            row[orders_schema.LINE_NUMBER] = index + 1
            rows.append(row)
    return rows


def products_per_run(orders: List[Dict]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for order in orders:
        counts[order["run_id"]] = counts.get(order["run_id"], 0) + len(order["products"])
    return counts
