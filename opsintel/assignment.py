"""The assignment engine: split work items between people fairly.

Shared by every app that hands out work (campaign interventions to care coordinators, claims
to AR agents). It knows nothing about models: callers describe the work as `Item`s and the
people as `Agent`s, and get back who does what and why.

Strategies
- `balanced`: minimise the largest load. Items of one group (a member's interventions) stay
  with one agent whenever that does not break the balance. Guarantees, without capacity or
  skill limits: with equal weights, max load − min load ≤ 1; with any weights, the largest
  load ≤ total / k + the largest item (greedy list scheduling); single items are placed
  longest-first, which is within 4/3 of the optimum.
- `round_robin`: item i to agent i mod k, in the order given. Predictable, not balanced for
  unequal weights.
- `group_by_skill`: every item of one skill (a measure) goes to one agent; skills are spread
  longest-first so the largest load is as small as that allows.
- `rebalance`: keep an existing assignment and move as few items as possible to reach the
  balanced targets (after an agent leaves, for example).

Capacity (the most weight an agent may take) and skills (which item skills an agent handles)
are respected by every strategy. Items that no agent can take are returned in `unassigned`
with the reason, never forced onto someone.
"""

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

BALANCED = "balanced"
ROUND_ROBIN = "round_robin"
GROUP_BY_SKILL = "group_by_skill"


@dataclass(frozen=True)
class Item:
    key: object
    group: object = None  # items with the same group stay with one agent where possible
    skill: object = None  # the agent must handle this skill (None: anyone may)
    weight: int | float | Decimal = 1


@dataclass(frozen=True)
class Agent:
    key: object
    capacity: int | float | Decimal | None = None  # most total weight; None: no limit
    skills: frozenset | None = None  # skills handled; None: all

    def handles(self, skill):
        return skill is None or self.skills is None or skill in self.skills


@dataclass
class Result:
    agents: list
    assignments: dict = field(default_factory=dict)  # item key -> agent key
    reasons: dict = field(default_factory=dict)  # item key -> why it went there
    unassigned: dict = field(default_factory=dict)  # item key -> why nobody could take it
    loads: dict = field(default_factory=dict)  # agent key -> total weight
    moved: int = 0  # rebalance only: items that changed agent

    @property
    def max_load(self):
        return max(self.loads.values(), default=0)

    @property
    def min_load(self):
        return min(self.loads.values(), default=0)

    @property
    def spread(self):
        return self.max_load - self.min_load

    def ideal_load(self):
        """The lower bound on the largest load: max(total ÷ agents, largest single item)."""
        total = sum(self.loads.values())
        if not self.loads:
            return 0
        return max(total / len(self.loads), self._largest_item)

    _largest_item: float = 0

    def summary(self):
        return {
            "max_load": self.max_load,
            "min_load": self.min_load,
            "spread": self.spread,
            "ideal_load": self.ideal_load(),
            "assigned": len(self.assignments),
            "unassigned": len(self.unassigned),
        }


class _Board:
    """Loads of the agents, with the least-loaded eligible agent found quickly."""

    def __init__(self, agents, initial=None):
        self.agents = {agent.key: agent for agent in agents}
        self.order = {agent.key: position for position, agent in enumerate(agents)}
        self.loads = {agent.key: 0 for agent in agents}
        if initial:
            self.loads.update(initial)
        self._heap = [(self.loads[key], self.order[key], key) for key in self.agents]
        heapq.heapify(self._heap)

    def room(self, key):
        capacity = self.agents[key].capacity
        return math.inf if capacity is None else capacity - self.loads[key]

    def add(self, key, weight):
        self.loads[key] += weight
        heapq.heappush(self._heap, (self.loads[key], self.order[key], key))

    def least_loaded(self, weight, accept):
        """The least-loaded agent with room for `weight` that `accept(agent)` allows."""
        popped, found = [], None
        while self._heap:
            load, position, key = heapq.heappop(self._heap)
            if load != self.loads[key]:
                continue  # stale entry; the agent's current load is further on
            popped.append((load, position, key))
            if self.room(key) >= weight and accept(self.agents[key]):
                found = key
                break
        for entry in popped:
            heapq.heappush(self._heap, entry)
        return found


def _no_agent_reason(agents, item):
    if not any(agent.handles(item.skill) for agent in agents):
        return f"no agent handles {item.skill}"
    return "every agent who handles it is at capacity"


def _finish(result, board, items):
    result.loads = dict(board.loads)
    result._largest_item = max((item.weight for item in items), default=0)
    return result


def _equal_weights(items):
    return len({item.weight for item in items}) <= 1


def balanced(items, agents):
    """Minimise the largest load, keeping each group with one agent where that stays fair."""
    items, agents = list(items), list(agents)
    result = Result(agents=[agent.key for agent in agents])
    board = _Board(agents)
    if not agents:
        result.unassigned = {item.key: "no agents" for item in items}
        return _finish(result, board, items)

    total = sum(item.weight for item in items)
    k = len(agents)
    ideal = total / k
    unit = items[0].weight if items and _equal_weights(items) else None
    if unit:
        # Equal weights: every agent ends with `floor` or `floor + 1` units, and at most
        # `extra` agents get the +1, which keeps max − min ≤ 1.
        units = len(items)
        floor, extra = divmod(units, k)

        def whole_fits(agent_key, weight):
            after = (board.loads[agent_key] + weight) / unit
            if after <= floor:
                return True
            # Only an agent still at or below `floor` can take the +1, and only while fewer
            # than `extra` agents have taken theirs.
            return after <= floor + 1 and above_floor[0] < extra
    else:
        largest = max((item.weight for item in items), default=0)

        def whole_fits(agent_key, weight):
            return board.loads[agent_key] + weight <= ideal + largest

    groups = defaultdict(list)
    singles = []
    for item in items:
        if item.group is None:
            singles.append([item])
        else:
            groups[item.group].append(item)
    bundles = [*groups.values(), *singles]
    # Longest first; ties in the order given, so the result is deterministic.
    bundles.sort(key=lambda bundle: -sum(item.weight for item in bundle))

    above_floor = [0]  # agents holding more than `floor` units (equal weights only)

    def place(item, agent_key, reason):
        if unit and board.loads[agent_key] <= floor * unit < board.loads[agent_key] + item.weight:
            above_floor[0] += 1
        board.add(agent_key, item.weight)
        result.assignments[item.key] = agent_key
        result.reasons[item.key] = reason

    for bundle in bundles:
        weight = sum(item.weight for item in bundle)
        skills = {item.skill for item in bundle}
        agent_key = board.least_loaded(
            weight, lambda agent, skills=skills: all(agent.handles(s) for s in skills)
        )
        if agent_key is not None and whole_fits(agent_key, weight):
            reason = (
                "balanced: least-loaded coordinator, member's items kept together"
                if len(bundle) > 1
                else "balanced: least-loaded coordinator"
            )
            for item in bundle:
                place(item, agent_key, reason)
            continue
        for item in bundle:
            agent_key = board.least_loaded(
                item.weight, lambda agent, item=item: agent.handles(item.skill)
            )
            if agent_key is None:
                result.unassigned[item.key] = _no_agent_reason(agents, item)
            else:
                reason = (
                    "balanced: least-loaded coordinator (member split to keep loads even)"
                    if len(bundle) > 1
                    else "balanced: least-loaded coordinator"
                )
                place(item, agent_key, reason)
    return _finish(result, board, items)


def round_robin(items, agents):
    """Item i to agent i mod k, in the order given, skipping agents who cannot take it."""
    items, agents = list(items), list(agents)
    result = Result(agents=[agent.key for agent in agents])
    board = _Board(agents)
    position = 0
    for item in items:
        for step in range(len(agents)):
            agent = agents[(position + step) % len(agents)]
            if agent.handles(item.skill) and board.room(agent.key) >= item.weight:
                board.add(agent.key, item.weight)
                result.assignments[item.key] = agent.key
                result.reasons[item.key] = (
                    f"round robin: turn {(position + step) % len(agents) + 1}"
                )
                position = (position + step + 1) % len(agents)
                break
        else:
            result.unassigned[item.key] = _no_agent_reason(agents, item) if agents else "no agents"
    return _finish(result, board, items)


def group_by_skill(items, agents):
    """Each skill's items all to one agent; skills spread largest first to the least loaded."""
    items, agents = list(items), list(agents)
    result = Result(agents=[agent.key for agent in agents])
    board = _Board(agents)
    by_skill = defaultdict(list)
    for item in items:
        by_skill[item.skill].append(item)
    ordered = sorted(by_skill.items(), key=lambda pair: -sum(i.weight for i in pair[1]))
    for skill, skill_items in ordered:
        weight = sum(item.weight for item in skill_items)
        agent_key = board.least_loaded(weight, lambda agent, skill=skill: agent.handles(skill))
        if agent_key is None:
            for item in skill_items:
                result.unassigned[item.key] = (
                    f"no agent handles {skill}"
                    if not any(agent.handles(skill) for agent in agents)
                    else f"no agent has room for all {len(skill_items)} items of {skill}"
                )
            continue
        board.add(agent_key, weight)
        for item in skill_items:
            result.assignments[item.key] = agent_key
            result.reasons[item.key] = f"group by measure: all of {skill} with one coordinator"
    return _finish(result, board, items)


STRATEGIES = {BALANCED: balanced, ROUND_ROBIN: round_robin, GROUP_BY_SKILL: group_by_skill}


def assign(strategy, items, agents):
    try:
        function = STRATEGIES[strategy]
    except KeyError:
        raise ValueError(
            f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        ) from None
    return function(items, agents)


def rebalance(items, agents, current):
    """Move as few items as possible so loads meet the balanced targets.

    `current` maps item key -> agent key. Items whose agent is gone (or no longer handles
    them) must move; beyond that, only the excess of agents above their target moves. With
    equal weights the targets are floor/ceil of the mean, the ceil going to the agents who
    already hold the most, so the number of moves is the least possible.
    """
    items, agents = list(items), list(agents)
    by_key = {agent.key: agent for agent in agents}
    result = Result(agents=[agent.key for agent in agents])
    kept = defaultdict(list)  # agent -> items staying
    loose = []
    for item in items:
        agent = by_key.get(current.get(item.key))
        if agent is not None and agent.handles(item.skill):
            kept[agent.key].append(item)
        else:
            loose.append(item)

    if not agents:
        result.unassigned = {item.key: "no agents" for item in items}
        return _finish(result, _Board(agents), items)

    total = sum(item.weight for item in items)
    k = len(agents)
    loads = {agent.key: sum(i.weight for i in kept[agent.key]) for agent in agents}
    if _equal_weights(items) and items:
        unit = items[0].weight
        floor, extra = divmod(len(items), k)
        # The agents holding the most keep the +1 slots: fewer items have to move.
        ranked = sorted(enumerate(agents), key=lambda pair: (-loads[pair[1].key], pair[0]))
        targets = {
            agent.key: (floor + (1 if rank < extra else 0)) * unit
            for rank, (_, agent) in enumerate(ranked)
        }
    else:
        largest = max((item.weight for item in items), default=0)
        targets = {agent.key: total / k + largest for agent in agents}
    for agent in agents:
        if agent.capacity is not None:
            targets[agent.key] = min(targets[agent.key], agent.capacity)

    # Shed the excess: single items of split or small groups go first, so groups stay whole.
    for agent in agents:
        staying = kept[agent.key]
        group_sizes = defaultdict(int)
        for item in staying:
            group_sizes[item.group] += 1
        staying.sort(key=lambda item: (item.group is not None, group_sizes[item.group]))
        while loads[agent.key] > targets[agent.key] and staying:
            item = staying.pop(0)
            loads[agent.key] -= item.weight
            loose.append(item)

    for agent_key, staying in kept.items():
        for item in staying:
            result.assignments[item.key] = agent_key
            result.reasons[item.key] = "rebalance: kept"

    board = _Board(agents, initial=loads)
    home = {}  # group -> agent already holding some of it
    for agent_key, staying in kept.items():
        for item in staying:
            if item.group is not None:
                home.setdefault(item.group, agent_key)
    loose.sort(key=lambda item: -item.weight)
    for item in loose:
        preferred = home.get(item.group)
        if (
            preferred is not None
            and by_key[preferred].handles(item.skill)
            and board.loads[preferred] + item.weight <= targets[preferred]
        ):
            agent_key = preferred
        else:
            agent_key = board.least_loaded(
                item.weight,
                lambda agent, item=item: (
                    agent.handles(item.skill)
                    and board.loads[agent.key] + item.weight <= targets[agent.key]
                ),
            ) or board.least_loaded(item.weight, lambda agent, item=item: agent.handles(item.skill))
        if agent_key is None:
            result.unassigned[item.key] = _no_agent_reason(agents, item)
            continue
        board.add(agent_key, item.weight)
        if item.group is not None:
            home.setdefault(item.group, agent_key)
        result.assignments[item.key] = agent_key
        result.reasons[item.key] = "rebalance: moved to even out loads"
        if current.get(item.key) != agent_key:
            result.moved += 1
    return _finish(result, board, items)


class UtilizationBoard:
    """Hands out work one item at a time to the eligible agent whose load is the smallest
    share of their capacity (load ÷ capacity; ties in the agents' order), starting from the
    loads they already carry. For queues where work arrives in a stream (claims, cases) and
    each piece must go to whoever has the most room right now.

    `pick` never returns an agent without room for the weight while an eligible one has room;
    with `overflow`, when nobody eligible has room, it returns the least utilized eligible agent
    anyway (the caller says so in its reason), else None.
    """

    def __init__(self, agents, loads=None):
        self.agents = {agent.key: agent for agent in agents}
        self.order = {agent.key: position for position, agent in enumerate(agents)}
        self.loads = {agent.key: 0 for agent in agents}
        if loads:
            self.loads.update({key: load for key, load in loads.items() if key in self.agents})
        self._heap = [(self._share(key), self.order[key], key) for key in self.agents]
        heapq.heapify(self._heap)

    def _share(self, key):
        capacity = self.agents[key].capacity
        return self.loads[key] / capacity if capacity else math.inf

    def utilization(self, key):
        return self._share(key)

    def room(self, key):
        capacity = self.agents[key].capacity
        return math.inf if capacity is None else capacity - self.loads[key]

    def add(self, key, weight=1):
        self.loads[key] += weight
        heapq.heappush(self._heap, (self._share(key), self.order[key], key))

    def pick(self, skill=None, weight=1, *, overflow=False):
        popped, found, fallback = [], None, None
        while self._heap:
            share, position, key = heapq.heappop(self._heap)
            if share != self._share(key):
                continue  # stale entry; the agent's current share is further on
            popped.append((share, position, key))
            if not self.agents[key].handles(skill):
                continue
            if fallback is None:
                fallback = key
            if self.room(key) >= weight:
                found = key
                break
        for entry in popped:
            heapq.heappush(self._heap, entry)
        return found if found is not None or not overflow else fallback
