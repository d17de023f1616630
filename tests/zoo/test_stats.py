import pytest

from edgeflow.zoo.cards import get_card
from edgeflow.zoo.registry import list_models
from edgeflow.zoo.stats import claim_rows, net_stats


@pytest.mark.parametrize("name", list_models())
def test_card_numbers_match_the_code(name):
    """The card's measured params/FLOPs are recomputed here, so a card cannot drift from its net."""
    card, stats = get_card(name), net_stats(name)
    assert card.measured["params"] == stats.params
    assert card.measured["mflops"] == pytest.approx(stats.flops / 1e6, abs=0.01)


def test_sepnet_claims_are_compared():
    rows = {r.claim: r for r in claim_rows(get_card("sep_res18_s3"))}
    assert set(rows) == {"params vs cov_res18_s3", "flops vs cov_res18_s3", "params vs vgg10", "flops vs vgg10"}
    s, c = net_stats("sep_res18_s3"), net_stats("cov_res18_s3")
    assert rows["params vs cov_res18_s3"].ours_pct == pytest.approx(100 * (1 - s.params / c.params))
    # the separable net is much cheaper than its standard-conv twin
    assert rows["flops vs cov_res18_s3"].ours_pct > 70
