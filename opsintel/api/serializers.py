from rest_framework import serializers

from opsintel.models import User


class AppSerializer(serializers.Serializer):
    label = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(source="index_url")


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    apps = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "roles", "apps"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(user.role_names)

    def get_apps(self, user) -> list[str]:
        from opsintel.platform import visible_apps

        return [app.label for app in visible_apps(user)]
