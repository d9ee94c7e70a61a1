import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from opsintel.audit import Action, record_event
from opsintel.models import AuditEvent, User
from opsintel.scoping import ScopedQuerySet, get_visible_or_404

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_people_with_events(make_user):
    alice, bob = make_user("Care manager"), make_user("AR manager")
    alice_event = record_event(Action.EXPORT, actor=alice, description="alice export")
    bob_event = record_event(Action.EXPORT, actor=bob, description="bob export")
    return alice, bob, alice_event, bob_event


def test_people_see_only_rows_in_their_scope(two_people_with_events):
    alice, bob, alice_event, bob_event = two_people_with_events
    assert list(AuditEvent.objects.visible_to(alice)) == [alice_event]
    assert list(AuditEvent.objects.visible_to(bob)) == [bob_event]


def test_platform_admins_see_everything(two_people_with_events, make_user):
    admin = make_user("Platform admin")
    _, _, alice_event, bob_event = two_people_with_events
    assert set(AuditEvent.objects.visible_to(admin)) == {alice_event, bob_event}


def test_anonymous_and_inactive_users_see_nothing(two_people_with_events):
    alice, *_ = two_people_with_events
    alice.is_active = False
    alice.save()
    assert not AuditEvent.objects.visible_to(AnonymousUser()).exists()
    assert not AuditEvent.objects.visible_to(None).exists()
    assert not AuditEvent.objects.visible_to(alice).exists()


def test_out_of_scope_object_answers_404_like_a_missing_one(two_people_with_events):
    alice, _, alice_event, bob_event = two_people_with_events
    assert get_visible_or_404(AuditEvent, alice, pk=alice_event.pk) == alice_event
    with pytest.raises(Http404):
        get_visible_or_404(AuditEvent.objects.all(), alice, pk=bob_event.pk)
    with pytest.raises(Http404):
        get_visible_or_404(AuditEvent, alice, pk=10**9)


def test_a_model_that_forgets_its_scope_rule_fails_loudly(make_user):
    user = make_user("Care manager")
    with pytest.raises(NotImplementedError, match="scope_for"):
        ScopedQuerySet(model=User).visible_to(user)
