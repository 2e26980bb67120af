"""Legal deadlines after a court request, in collective proceedings and for
prescription (LAW.md §3.8, §4, §5, §8, §11). Every expected date is computed by
hand from the rule, never by the function under test."""

from datetime import date
from decimal import Decimal

import pytest

from engine.deadlines import (
    ABROAD,
    DECREE_2026_96_START,
    METROPOLITAN,
    OVERSEAS,
    PRESCRIPTION_LONG_STOP_YEARS,
    Deadline,
    court_fee_deadline,
    declaration_deadline,
    enforcement_date,
    european_opposition_deadline,
    is_new_regime,
    lawyer_deadline,
    location_extension_months,
    needs_lawyer,
    opposition_deadline,
    prescription_deadline,
    relief_deadline,
    revendication_deadline,
    service_deadline,
    small_claims_deadline,
    title_expiry,
)

# --- décret 2026-96: which regime -------------------------------------------


def test_new_regime_starts_on_1_september_2026():
    assert DECREE_2026_96_START == date(2026, 9, 1)
    assert not is_new_regime(date(2026, 8, 31))
    assert is_new_regime(date(2026, 9, 1))
    assert is_new_regime(date(2027, 1, 15))


# --- commercial court fee ------------------------------------------------------


def test_court_fee_15_days_across_the_year_end():
    deadline = court_fee_deadline(date(2026, 12, 20))
    assert isinstance(deadline, Deadline)
    assert deadline.date == date(2027, 1, 4)
    assert deadline.key == "court_fee"
    assert deadline.article == "CPC 1425"


# --- service of the order ----------------------------------------------------


def test_service_order_of_31_august_2026_has_6_months():
    deadline = service_deadline(date(2026, 8, 31))
    # 31 August + 6 months: February 2027 has no 31st, so its last day.
    assert deadline.date == date(2027, 2, 28)
    assert deadline.key == "service"
    assert deadline.article == "CPC 1411"


def test_service_order_of_1_september_2026_has_3_months():
    deadline = service_deadline(date(2026, 9, 1))
    assert deadline.date == date(2026, 12, 1)
    assert deadline.article == "CPC 1411 (décret 2026-96)"


def test_service_month_end_and_leap_year():
    assert service_deadline(date(2026, 11, 30)).date == date(2027, 2, 28)
    assert service_deadline(date(2027, 11, 30)).date == date(2028, 2, 29)
    assert service_deadline(date(2027, 11, 29)).date == date(2028, 2, 29)
    # Old regime: 31 July + 6 months = 31 January.
    assert service_deadline(date(2026, 7, 31)).date == date(2027, 1, 31)


# --- where the debtor lives (CPC 643) ----------------------------------------


def test_location_extension_months():
    assert location_extension_months(METROPOLITAN) == 0
    assert location_extension_months(OVERSEAS) == 1
    assert location_extension_months(ABROAD) == 2
    with pytest.raises(ValueError):
        location_extension_months("mars")


# --- opposition to an injonction de payer ------------------------------------


def test_opposition_one_month_from_service_in_person():
    deadline = opposition_deadline(date(2027, 3, 15), in_person=True)
    assert deadline.date == date(2027, 4, 15)
    assert deadline.key == "opposition"
    assert deadline.article == "CPC 1416"


def test_opposition_month_end():
    # 31 January + 1 month = 28 February, 29 February in a leap year.
    assert opposition_deadline(date(2027, 1, 31), True).date == date(2027, 2, 28)
    assert opposition_deadline(date(2028, 1, 31), True).date == date(2028, 2, 29)


def test_opposition_overseas_and_abroad():
    overseas = opposition_deadline(date(2027, 3, 15), True, OVERSEAS)
    assert overseas.date == date(2027, 5, 15)
    assert overseas.article == "CPC 1416, 643"
    abroad = opposition_deadline(date(2027, 3, 15), True, ABROAD)
    assert abroad.date == date(2027, 6, 15)
    # 30 November + 3 months abroad = the last day of February.
    assert opposition_deadline(date(2027, 11, 30), True, ABROAD).date == date(
        2028, 2, 29
    )
    with pytest.raises(ValueError):
        opposition_deadline(date(2027, 3, 15), True, "elsewhere")


def test_opposition_not_in_person_stays_open_until_a_personal_act():
    assert opposition_deadline(date(2027, 3, 15), in_person=False) is None
    # The month runs from the first act in person, not from service.
    deadline = opposition_deadline(
        date(2027, 3, 15), in_person=False, personal_act=date(2027, 4, 10)
    )
    assert deadline.date == date(2027, 5, 10)
    abroad = opposition_deadline(
        date(2027, 3, 15), False, ABROAD, personal_act=date(2027, 4, 10)
    )
    assert abroad.date == date(2027, 7, 10)


def test_opposition_in_person_ignores_a_later_act():
    deadline = opposition_deadline(
        date(2027, 3, 15), in_person=True, personal_act=date(2027, 4, 10)
    )
    assert deadline.date == date(2027, 4, 15)


# --- enforcement of an unopposed order -----------------------------------------


def test_enforcement_new_regime_two_months_after_service():
    deadline = enforcement_date(date(2026, 9, 1), date(2026, 9, 15), in_person=True)
    # Two full months after 15 September end on 15 November: allowed from the 16th.
    assert deadline.date == date(2026, 11, 16)
    assert deadline.key == "enforcement"
    assert deadline.article == "CPC 1422 (décret 2026-96)"
    # The new rule counts from service, in person or not, wherever the debtor is.
    assert enforcement_date(
        date(2026, 9, 1), date(2026, 9, 15), False, ABROAD
    ).date == date(2026, 11, 16)


def test_enforcement_new_regime_month_end():
    # 31 December + 2 months = 28 February 2027: allowed from 1 March.
    deadline = enforcement_date(date(2026, 12, 1), date(2026, 12, 31), True)
    assert deadline.date == date(2027, 3, 1)


def test_enforcement_old_regime_after_the_opposition_window():
    order = date(2026, 8, 31)
    deadline = enforcement_date(order, date(2026, 9, 15), in_person=True)
    # Opposition until 15 October, enforcement from 16 October.
    assert deadline.date == date(2026, 10, 16)
    assert deadline.article == "CPC 1410, 1416"
    abroad = enforcement_date(order, date(2026, 9, 15), True, ABROAD)
    assert abroad.date == date(2026, 12, 16)


def test_enforcement_old_regime_window_open_without_personal_act():
    order = date(2026, 8, 31)
    assert enforcement_date(order, date(2026, 9, 15), in_person=False) is None
    deadline = enforcement_date(
        order, date(2026, 9, 15), False, personal_act=date(2026, 11, 2)
    )
    assert deadline.date == date(2026, 12, 3)


def test_enforcement_both_sides_of_1_september_same_service():
    served = date(2026, 10, 15)
    old = enforcement_date(date(2026, 8, 31), served, True)
    new = enforcement_date(date(2026, 9, 1), served, True)
    assert old.date == date(2026, 11, 16)
    assert new.date == date(2026, 12, 16)


# --- after an opposition -----------------------------------------------------


def test_lawyer_deadline_15_days():
    deadline = lawyer_deadline(date(2027, 1, 20))
    assert deadline.date == date(2027, 2, 4)
    assert deadline.key == "lawyer"
    assert deadline.article == "CPC 1418"


def test_needs_lawyer_above_10000_eur_before_the_judicial_court():
    assert not needs_lawyer("tj", Decimal("10000"))
    assert needs_lawyer("tj", Decimal("10000.01"))
    assert needs_lawyer("tj", 10000.01)
    assert not needs_lawyer("commerce", Decimal("50000"))


# --- enforceable title -------------------------------------------------------


def test_title_expiry_10_years():
    deadline = title_expiry(date(2027, 3, 15))
    assert deadline.date == date(2037, 3, 15)
    assert deadline.key == "title"
    assert deadline.article == "CPCE L111-4"
    # 29 February 2028 + 10 years: 2038 has no 29 February.
    assert title_expiry(date(2028, 2, 29)).date == date(2038, 2, 28)


# --- European order for payment ---------------------------------------------


def test_european_opposition_30_days():
    deadline = european_opposition_deadline(date(2027, 1, 15))
    assert deadline.date == date(2027, 2, 14)
    assert deadline.key == "eop_opposition"
    assert deadline.article == "Reg. (EC) 1896/2006 art. 16"
    # Thirty days, not one month: from 31 January it ends on 2 March.
    assert european_opposition_deadline(date(2027, 1, 31)).date == date(2027, 3, 2)


# --- small claims ------------------------------------------------------------


def test_small_claims_one_month():
    deadline = small_claims_deadline(date(2027, 3, 15))
    assert deadline.date == date(2027, 4, 15)
    assert deadline.key == "small_claims"
    assert deadline.article == "CPCE L125-1, R125-2"
    assert small_claims_deadline(date(2027, 1, 31)).date == date(2027, 2, 28)
    assert small_claims_deadline(date(2028, 1, 31)).date == date(2028, 2, 29)


# --- collective proceedings --------------------------------------------------


def test_declaration_two_months_in_metropolitan_france():
    deadline = declaration_deadline(date(2027, 3, 15))
    assert deadline.date == date(2027, 5, 15)
    assert deadline.key == "declaration"
    assert deadline.article == "C. com. L622-24, R622-24"
    # 31 December + 2 months = 28 February.
    assert declaration_deadline(date(2026, 12, 31)).date == date(2027, 2, 28)


def test_declaration_four_months_overseas_or_abroad():
    assert declaration_deadline(date(2026, 12, 31), OVERSEAS).date == date(2027, 4, 30)
    assert declaration_deadline(date(2026, 12, 31), ABROAD).date == date(2027, 4, 30)
    assert declaration_deadline(date(2027, 10, 29), ABROAD).date == date(2028, 2, 29)
    with pytest.raises(ValueError):
        declaration_deadline(date(2027, 3, 15), "metropolitain")


def test_relief_six_months():
    deadline = relief_deadline(date(2027, 3, 15))
    assert deadline.date == date(2027, 9, 15)
    assert deadline.key == "relief"
    assert deadline.article == "C. com. L622-26"
    assert relief_deadline(date(2026, 8, 31)).date == date(2027, 2, 28)
    assert relief_deadline(date(2027, 8, 31)).date == date(2028, 2, 29)


def test_revendication_three_months():
    deadline = revendication_deadline(date(2027, 3, 15))
    assert deadline.date == date(2027, 6, 15)
    assert deadline.key == "revendication"
    assert deadline.article == "C. com. L624-9"
    assert revendication_deadline(date(2026, 11, 30)).date == date(2027, 2, 28)
    assert revendication_deadline(date(2027, 11, 30)).date == date(2028, 2, 29)


# --- prescription --------------------------------------------------------------


def test_prescription_professional_5_years_consumer_2_years():
    professional = prescription_deadline(date(2021, 3, 15), consumer=False)
    assert professional.date == date(2026, 3, 15)
    assert professional.key == "prescription"
    assert professional.article == "C. com. L110-4"
    consumer = prescription_deadline(date(2021, 3, 15), consumer=True)
    assert consumer.date == date(2023, 3, 15)
    assert consumer.article == "C. consom. L218-2"


def test_prescription_from_29_february():
    assert prescription_deadline(date(2024, 2, 29), False).date == date(2029, 2, 28)
    assert prescription_deadline(date(2024, 2, 29), True).date == date(2026, 2, 28)


def test_prescription_interruption_starts_a_new_period():
    deadline = prescription_deadline(date(2021, 3, 15), False, [date(2024, 1, 10)])
    assert deadline.date == date(2029, 1, 10)
    assert deadline.article == "C. com. L110-4, C. civ. 2231, 2240, 2241"


def test_prescription_successive_interruptions_in_any_order():
    # Consumer: 1 June 2020 -> 1 June 2022; interrupted 1 May 2022 -> 1 May 2024;
    # interrupted again 1 April 2024 -> 1 April 2026.
    deadline = prescription_deadline(
        date(2020, 6, 1), True, (date(2024, 4, 1), date(2022, 5, 1))
    )
    assert deadline.date == date(2026, 4, 1)
    assert deadline.article == "C. consom. L218-2, C. civ. 2231, 2240, 2241"


def test_prescription_interruption_on_the_last_day_counts():
    deadline = prescription_deadline(date(2020, 6, 1), True, [date(2022, 6, 1)])
    assert deadline.date == date(2024, 6, 1)


def test_prescription_interruption_after_expiry_is_ignored():
    deadline = prescription_deadline(date(2020, 6, 1), True, [date(2022, 6, 2)])
    assert deadline.date == date(2022, 6, 1)
    assert deadline.article == "C. consom. L218-2"
    # Nor does a later one, once the chain is broken.
    deadline = prescription_deadline(
        date(2020, 6, 1), True, [date(2022, 6, 2), date(2023, 1, 1)]
    )
    assert deadline.date == date(2022, 6, 1)


def test_prescription_interruption_before_the_start_is_ignored():
    deadline = prescription_deadline(date(2021, 3, 15), False, [date(2021, 3, 14)])
    assert deadline.date == date(2026, 3, 15)
    assert deadline.article == "C. com. L110-4"


def test_prescription_early_interruption_never_shortens():
    # An interruption a week after the start gives a later end, never an earlier.
    deadline = prescription_deadline(date(2021, 3, 15), False, [date(2021, 3, 22)])
    assert deadline.date == date(2026, 3, 22)


def test_prescription_20_year_long_stop():
    assert PRESCRIPTION_LONG_STOP_YEARS == 20
    # Interrupted every four years: 2021 would be reached, capped at 1 January 2020.
    interruptions = [date(2004, 1, 1), date(2008, 1, 1), date(2012, 1, 1)]
    interruptions += [date(2016, 1, 1)]
    deadline = prescription_deadline(date(2000, 1, 1), False, interruptions)
    assert deadline.date == date(2020, 1, 1)
    # Below the long-stop, the last interruption decides.
    deadline = prescription_deadline(date(2000, 1, 1), False, interruptions[:3])
    assert deadline.date == date(2017, 1, 1)
