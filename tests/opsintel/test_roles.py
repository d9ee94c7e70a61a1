import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission

from opsintel.roles import APP_LABELS, PLATFORM, ROLES, sync_roles

pytestmark = pytest.mark.django_db


def permission_names(group):
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_every_role_is_a_group_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) == {role.name for role in ROLES}
    for role in ROLES:
        group = Group.objects.get(name=role.name)
        assert permission_names(group) == set(role.all_permissions()), role.name


def test_the_issue_roles_exist_for_each_app():
    by_app = {}
    for role in ROLES:
        by_app.setdefault(role.app, []).append(role.name)
    assert by_app == {
        PLATFORM: ["Platform admin"],
        "campaigns": ["Care manager", "Care coordinator"],
        "leaderhub": [
            "RDO", "RMD", "Area manager", "Market manager",
            "Lead APP", "Lead DHMT", "APP", "DHMT",
        ],
        "advocacy": ["Operations leader", "Advocate"],
        "rcm": [
            "AR manager", "Senior agent", "Government specialist",
            "Escalation team", "Specialist", "General agent",
        ],
        "engagement": [
            "Pharmacy manager", "Senior pharmacist", "Staff pharmacist",
            "Pharmacy technician", "Administrative staff",
        ],
    }  # fmt: skip
    assert set(by_app) - {PLATFORM} == set(APP_LABELS)


def test_sync_roles_restores_drifted_groups_and_is_repeatable():
    group = Group.objects.get(name="AR manager")
    group.permissions.add(Permission.objects.get(codename="delete_auditevent"))
    Group.objects.filter(name="Advocate").delete()

    sync_roles(django_apps)
    sync_roles(django_apps)

    assert permission_names(Group.objects.get(name="AR manager")) == {"opsintel.use_rcm"}
    assert permission_names(Group.objects.get(name="Advocate")) == {"opsintel.use_advocacy"}
    assert Group.objects.count() == len(ROLES)
