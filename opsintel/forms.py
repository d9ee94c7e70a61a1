"""Form helpers shared by the apps' pages."""


def add_errors(form, error):
    """Put a service's ValidationError on the form, on the field it names where the form has it
    (anything else becomes a form-wide error), so the page shows it where the user looks."""
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
