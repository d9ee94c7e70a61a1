"""Letters pages: write an appeal for a claim, fill any template for a claim, read, print and
download a letter. Thin: parse input, call rcm.documents, render.

Letters carry PHI: showing a claim's data or a letter is audited as a view, downloading one as
an export. Everything is looked up within the user's scope (404 outside it).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect

from opsintel.audit import Action, record_event, view_record
from opsintel.forms import add_errors
from opsintel.scoping import get_visible_or_404
from rcm import documents
from rcm.context import render_page
from rcm.models import Claim, DenialReason, DocumentTemplate, GeneratedDocument

# Placeholders people write paragraphs into.
LONG_VARIABLES = {"notes", "clinical_justification", "correction_details"}
MAX_TEXT = 20_000


class AppealForm(forms.Form):
    denial_reason = forms.ChoiceField(
        choices=[("", "Choose the payer's reason"), *DenialReason.choices],
        help_text="The letter follows the reason; other reasons get a general appeal to review.",
    )
    notes = forms.CharField(
        label="Clinical justification",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Why the claim should be paid: the patient's condition, what was done, and "
        "the records that show it. It goes into the letter as written.",
    )


def appeal_form_for(claim, data=None):
    """The appeal form for a claim, its reason preselected (the claim page embeds it)."""
    return AppealForm(data, initial={"denial_reason": claim.denial_reason}, prefix="appeal")


class TemplateTypeForm(forms.Form):
    template_type = forms.ChoiceField(label="Letter", choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = DocumentTemplate.objects.filter(active=True).order_by("doc_type")
        self.fields["template_type"].choices = [("", "Choose a letter")] + [
            (template.doc_type, template.get_doc_type_display()) for template in active
        ]


class VariablesForm(forms.Form):
    """One text field per placeholder of a template. Every field may be left empty here: the
    service decides what is missing, and names all of it at once."""

    def __init__(self, template, *args, **kwargs):
        super().__init__(*args, prefix="var", **kwargs)
        for name in documents.placeholders(template.body):
            long = name in LONG_VARIABLES
            self.fields[name] = forms.CharField(
                label=name.replace("_", " ").capitalize(),
                required=False,
                max_length=MAX_TEXT if long else 500,
                widget=forms.Textarea(attrs={"rows": 6}) if long else forms.TextInput(),
            )


def _claims():
    return Claim.objects.select_related("patient", "payer")


def _bad_request(response):
    response.status_code = 400
    return response


def generate_appeal(request, pk):
    """GET: the appeal form on its own page. POST: write the letter, then show it."""
    if request.method != "POST":
        claim = view_record(request, _claims(), pk=pk)
        context = {"claim": claim, "appeal_form": appeal_form_for(claim)}
        return render_page(request, "rcm/document_appeal.html", context)

    claim = get_visible_or_404(_claims(), request.user, pk=pk)
    form = appeal_form_for(claim, request.POST)
    if form.is_valid():
        try:
            document = documents.generate_appeal(
                claim,
                denial_reason=form.cleaned_data["denial_reason"],
                notes=form.cleaned_data["notes"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if document.needs_review:
                messages.warning(
                    request,
                    "No letter fits this denial reason: a general appeal was written. "
                    "Review it before sending.",
                )
            else:
                messages.success(request, f"{document.title} written.")
            return redirect("rcm:document_detail", document.pk)
    context = {"claim": claim, "appeal_form": form}
    return _bad_request(render_page(request, "rcm/document_appeal.html", context))


def generate_document(request, pk):
    """GET: choose a letter, then see its placeholders filled from the claim. POST: write it."""
    posted = request.method == "POST"
    if posted:
        claim = get_visible_or_404(_claims(), request.user, pk=pk)
    else:
        claim = view_record(request, _claims(), pk=pk)
    source = request.POST if posted else request.GET
    chosen = source.get("template_type", "")
    type_form = TemplateTypeForm(initial={"template_type": chosen})
    template, variables_form, type_errors = None, None, []

    if chosen or posted:
        try:
            template = documents.template_for(chosen)
        except ValidationError as error:
            type_errors = error.messages

    if template is not None and posted:
        variables_form = VariablesForm(template, request.POST)
        if variables_form.is_valid():
            data = dict(variables_form.cleaned_data)
            try:
                document = documents.generate_document(
                    template.doc_type, data, claim=claim, user=request.user
                )
            except ValidationError as error:
                add_errors(variables_form, error)
                for name, value in data.items():
                    if not value.strip():
                        variables_form.add_error(name, "Fill this in.")
            else:
                messages.success(request, f"{document.title} written.")
                return redirect("rcm:document_detail", document.pk)
    elif template is not None:
        initial = documents.claim_variables(claim, user=request.user)
        variables_form = VariablesForm(template, initial=initial)

    context = {
        "claim": claim,
        "type_form": type_form,
        "type_errors": type_errors,
        "template": template,
        "variables_form": variables_form,
    }
    response = render_page(request, "rcm/document_form.html", context)
    return _bad_request(response) if posted or type_errors else response


def document_detail(request, pk):
    document = view_record(
        request,
        GeneratedDocument.objects.select_related("claim", "template", "created_by"),
        pk=pk,
    )
    return render_page(request, "rcm/document_detail.html", {"document": document})


FORMATS = {
    "txt": ("text/plain; charset=utf-8", documents.text_bytes),
    "pdf": ("application/pdf", documents.pdf_bytes),
}


def document_download(request, pk, fmt):
    if fmt not in FORMATS:
        raise Http404("Letters download as .txt or .pdf.")
    document = get_visible_or_404(
        GeneratedDocument.objects.select_related("created_by"), request.user, pk=pk
    )
    content_type, make = FORMATS[fmt]
    content = make(document)
    record_event(
        Action.EXPORT,
        request=request,
        objects=document,
        description=f"Downloaded {document.title} as {fmt.upper()}",
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{documents.filename(document, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
