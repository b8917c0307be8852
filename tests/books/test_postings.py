"""What one record posts: the rules `postings` applies to the odd shapes Xero's JSON can take."""

from datetime import date

from wizard.books import postings


def test_a_document_posts_its_lines_tax_and_control_with_each_tracking_option_and_nothing_for_odd_values():
    invoice = {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Date": "/Date(1733184000000+0000)/",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {
                "LineAmount": 115.0,
                "TaxAmount": "15.00",  # a string amount is read as a decimal
                "AccountID": "A1",
                "Code": "200",
                # Only dicts naming an option count; anything else in the list is ignored.
                "Tracking": [{"TrackingOptionID": "opt-1"}, "junk", {"Name": "no id"}, {"TrackingOptionID": "opt-2"}],
            },
            {"LineAmount": True, "AccountCode": "400", "Tracking": None},  # a boolean is no amount: posts nothing
        ],
        "TotalTax": 15,
        "Total": 115.0,
    }
    day = date(2024, 12, 3)
    assert postings.postings("Invoices", invoice) == [
        ("a|A1|200", day, -10000, ""),
        ("a|A1|200", day, -10000, "opt-1"),
        ("a|A1|200", day, -10000, "opt-2"),
        ("s|GST", day, -1500, ""),
        ("s|DEBTORS", day, 11500, ""),
    ]
    assert postings.postings("Invoices", {**invoice, "Status": "DRAFT"}) == []  # not posted
    assert postings.postings("Invoices", {**invoice, "Date": None}) == []  # undated never counts
