import itertools
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsintel.assignment import (
    Agent,
    Item,
    assign,
    balanced,
    group_by_skill,
    rebalance,
    round_robin,
)

agent_counts = st.integers(min_value=1, max_value=12)


def agents_of(k, **kwargs):
    return [Agent(key=f"a{n}", **kwargs) for n in range(k)]


@st.composite
def grouped_unit_items(draw, max_items=200):
    sizes = draw(st.lists(st.integers(min_value=1, max_value=6), max_size=max_items // 3))
    items, n = [], 0
    for group, size in enumerate(sizes):
        for _ in range(size):
            items.append(Item(key=n, group=group))
            n += 1
    return items


def split_groups(result, items):
    agents_per_group = defaultdict(set)
    for item in items:
        agents_per_group[item.group].add(result.assignments[item.key])
    return [group for group, agents in agents_per_group.items() if len(agents) > 1]


@settings(max_examples=150, deadline=None)
@given(items=grouped_unit_items(), k=agent_counts)
def test_balanced_with_equal_weights_is_perfectly_even(items, k):
    result = balanced(items, agents_of(k))
    assert len(result.assignments) == len(items)
    assert result.unassigned == {}
    assert result.spread <= 1
    assert sum(result.loads.values()) == len(items)


@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=80),
    groups=st.data(),
    k=agent_counts,
)
def test_balanced_with_weights_meets_the_greedy_bound(weights, groups, k):
    items = [
        Item(key=n, weight=w, group=groups.draw(st.none() | st.integers(0, 10)))
        for n, w in enumerate(weights)
    ]
    result = balanced(items, agents_of(k))
    assert len(result.assignments) == len(items)
    assert result.max_load <= sum(weights) / k + max(weights)


def optimum(weights, k):
    best = sum(weights)
    for choice in itertools.product(range(k), repeat=len(weights)):
        loads = [0] * k
        for weight, agent in zip(weights, choice, strict=True):
            loads[agent] += weight
        best = min(best, max(loads))
    return best


@settings(max_examples=80, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=7),
    k=st.integers(min_value=2, max_value=3),
)
def test_balanced_single_items_are_within_four_thirds_of_the_optimum(weights, k):
    items = [Item(key=n, weight=w) for n, w in enumerate(weights)]
    assert balanced(items, agents_of(k)).max_load <= (4 / 3 - 1 / (3 * k)) * optimum(weights, k)


def test_balanced_keeps_members_together_when_that_stays_even():
    # Members with 4, 3 and 3 interventions over 3 coordinators: 4/3/3, nobody split.
    items = [Item(key=f"{m}-{n}", group=m) for m, size in enumerate([4, 3, 3]) for n in range(size)]
    result = balanced(items, agents_of(3))
    assert sorted(result.loads.values()) == [3, 3, 4]
    assert split_groups(result, items) == []

    # Six members with two each over three coordinators: two members each, none split.
    items = [Item(key=f"{m}-{n}", group=m) for m in range(6) for n in range(2)]
    result = balanced(items, agents_of(3))
    assert sorted(result.loads.values()) == [4, 4, 4]
    assert split_groups(result, items) == []
    assert "kept together" in result.reasons["0-0"]


def test_balanced_splits_a_member_only_to_keep_loads_even():
    # One member with 5 interventions and 2 coordinators: 3 + 2, the reason says so.
    items = [Item(key=n, group="m") for n in range(5)]
    result = balanced(items, agents_of(2))
    assert sorted(result.loads.values()) == [2, 3]
    assert "split" in result.reasons[0]


def test_balanced_is_not_round_robin():
    # Members with 2, 2 and 2 items over 2 agents. Round robin alternates and splits every
    # member; balanced keeps members whole: loads 4/2 would be uneven, so one member is split.
    items = [Item(key=f"{m}-{n}", group=m) for m in range(3) for n in range(2)]
    robin = round_robin(items, agents_of(2))
    assert len(split_groups(robin, items)) == 3
    result = balanced(items, agents_of(2))
    assert result.spread == 0
    assert len(split_groups(result, items)) == 1


def test_skills_and_capacity_are_respected_and_shortfalls_reported():
    agents = [
        Agent("diabetes", skills=frozenset({"HBA1C", "EED"}), capacity=3),
        Agent("screening", skills=frozenset({"COL", "BCS"})),
    ]
    items = [Item(key=n, skill="HBA1C") for n in range(5)] + [Item(key="c", skill="COL")]
    items.append(Item(key="x", skill="CBP"))
    result = balanced(items, agents)
    assert [result.assignments[n] for n in range(3)] == ["diabetes"] * 3
    assert result.assignments["c"] == "screening"
    assert result.unassigned == {
        3: "every agent who handles it is at capacity",
        4: "every agent who handles it is at capacity",
        "x": "no agent handles CBP",
    }


def test_round_robin_is_sequential():
    items = [Item(key=n) for n in range(7)]
    result = round_robin(items, agents_of(3))
    assert [result.assignments[n] for n in range(7)] == ["a0", "a1", "a2", "a0", "a1", "a2", "a0"]
    assert result.reasons[4] == "round robin: turn 2"


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=12),
    k=agent_counts,
)
def test_group_by_measure_keeps_each_measure_with_one_agent(sizes, k):
    items = [Item(key=(m, n), skill=f"M{m}") for m, size in enumerate(sizes) for n in range(size)]
    result = group_by_skill(items, agents_of(k))
    agents_per_measure = defaultdict(set)
    for item in items:
        agents_per_measure[item.skill].add(result.assignments[item.key])
    assert all(len(agents) == 1 for agents in agents_per_measure.values())
    assert result.max_load <= sum(sizes) / k + max(sizes)


def test_group_by_measure_shows_the_imbalance_it_causes():
    sizes = {"COL": 6, "BCS": 3, "EED": 1}
    items = [Item(key=(m, n), skill=m) for m, size in sizes.items() for n in range(size)]
    result = group_by_skill(items, agents_of(2))
    assert sorted(result.loads.values()) == [4, 6]
    assert result.summary() == {
        "max_load": 6,
        "min_load": 4,
        "spread": 2,
        "ideal_load": 5.0,
        "assigned": 10,
        "unassigned": 0,
    }


@settings(max_examples=120, deadline=None)
@given(items=grouped_unit_items(max_items=120), k=st.integers(min_value=2, max_value=8))
def test_rebalance_after_a_coordinator_leaves_moves_the_fewest_items(items, k):
    agents = agents_of(k)
    before = balanced(items, agents)
    leaving = agents[0].key
    staying = agents[1:]
    after = rebalance(items, staying, before.assignments)

    assert len(after.assignments) == len(items)
    assert after.spread <= 1
    assert leaving not in after.assignments.values()
    # Lower bound on moves: everything the leaver held, plus what the others hold above the
    # even split, giving the +1 slots to those who hold the most.
    orphans = sum(1 for agent in before.assignments.values() if agent == leaving)
    held = sorted((before.loads[a.key] for a in staying), reverse=True)
    floor, extra = divmod(len(items), len(staying))
    excess = sum(
        max(0, load - (floor + (1 if rank < extra else 0))) for rank, load in enumerate(held)
    )
    changed = sum(1 for key, agent in after.assignments.items() if before.assignments[key] != agent)
    assert after.moved == changed == orphans + excess


def test_rebalance_of_a_balanced_campaign_moves_nothing():
    items = [Item(key=n, group=n // 2) for n in range(20)]
    before = balanced(items, agents_of(4))
    after = rebalance(items, agents_of(4), before.assignments)
    assert after.moved == 0
    assert after.assignments == before.assignments


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="unknown strategy 'fastest'"):
        assign("fastest", [], agents_of(1))


def test_no_agents_leaves_everything_unassigned():
    result = balanced([Item(key=1)], [])
    assert result.unassigned == {1: "no agents"}
    assert Counter(result.assignments.values()) == Counter()
