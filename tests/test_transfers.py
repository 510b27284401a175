"""Imports (CSV, XLSX, paste; criteria, territories, groups), exports (lists, open-data package,
REFI-QDA codebook) and the round trip of a scope through its package."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import TestCase
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.coding.models import Coding
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
)
from spiral.grid.models import GridVersion
from spiral.syntheses.models import SynthesisCell, TerritoryStats
from spiral.syntheses.selectors import SynthesisFilters, territory_synthesis
from spiral.syntheses.services import territory_stats_rebuild
from spiral.territories.models import Territory
from spiral.transfers.exports import table_csv
from spiral.transfers.models import ImportJob, ImportKind, ImportStatus
from spiral.transfers.package import code_guid, codebook_qdc, package_build, package_import
from spiral.transfers.readers import read_csv, read_paste, read_table, read_xlsx, sniff_delimiter
from spiral.transfers.services import import_job_create, import_job_run
from tests.conftest import client_for
from tests.factories import CriterionFactory, GroupFactory, MeetingFactory, UserFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
CELL_FIELDS = (
    "territory_id",
    "facet",
    "facet_value",
    "question_kind",
    "level",
    "item_id",
    "criteria",
    "expressions",
)
CODES = ["A01", "A06", "B01", "D03", "F01", "H01", ""]


def criteria_file(lines: int, *, bad: dict[int, list[str]] | None = None) -> bytes:
    """A semicolon CSV with a header; ``bad`` replaces some data lines (1-based) by other cells."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["Critère", "Nombre", "Composante", "Question"])
    for number in range(1, lines + 1):
        row = [
            f"Critère numéro {number}",
            str(1 + number % 3),
            CODES[number % 7],
            f"q{1 + number % 3}",
        ]
        writer.writerow((bad or {}).get(number, row))
    return out.getvalue().encode("utf-8")


def run_import(user: User, meeting: Meeting, content: bytes, filename: str = "f.csv") -> ImportJob:
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=user,
        filename=filename,
        content=content,
        territory=meeting.group.territory,
        meeting=meeting,
    )
    return import_job_run(job=job)


# --- Readers -------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows([["text", "count"], ["Du travail, enfin", "2"], ["La paix", "1"]])
    table = read_csv(out.getvalue().encode())
    assert table.columns == ["text", "count"]
    assert [cells for _n, cells in table.rows] == [["Du travail, enfin", "2"], ["La paix", "1"]]


def test_csv_encodings_bom_and_latin1() -> None:
    with_bom = "\ufefftext;count\nÊtre écouté;2\n".encode()
    latin = "text;count\nÊtre écouté;2\n".encode("latin-1")
    for content in (with_bom, latin):
        table = read_csv(content)
        assert table.columns == ["text", "count"]
        assert table.rows == [(2, ["Être écouté", "2"])]


def test_csv_line_numbers_count_quoted_line_breaks() -> None:
    table = read_csv(b'text,count\n"two\nlines",1\n\nthird,2\n')
    assert table.rows == [(2, ["two\nlines", "1"]), (5, ["third", "2"])]


def test_xlsx_is_read_in_read_only_mode() -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Critère", "Nombre", "Code"])
    sheet.write_row(1, 0, ["Avoir un toit", 3, "A03"])
    sheet.write_row(3, 0, ["Des amis", 1.0, ""])
    workbook.close()
    table = read_xlsx(buffer.getvalue())
    assert table.columns == ["Critère", "Nombre", "Code"]
    assert table.rows == [(2, ["Avoir un toit", "3", "A03"]), (4, ["Des amis", "1"])]


def test_paste_format_reuses_the_transcription_parser() -> None:
    table = read_paste("2;Voir la mer;A07\nLa santé\ndeux;Se sentir utile;H01\n".encode())
    assert table.rows[0] == (1, ["2", "Voir la mer", "A07"])
    assert table.rows[1] == (2, ["1", "La santé", ""])
    assert [e.line for e in table.errors] == [3]


def test_unreadable_workbook_is_refused_cleanly() -> None:
    from spiral.core.errors import ImportRejected

    with pytest.raises(ImportRejected):
        read_table(b"PK\x03\x04 not really a zip", file_format="xlsx")


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")


@given(texts=st.lists(cell_text, min_size=1, max_size=12), delimiter=st.sampled_from([",", ";"]))
@hypothesis_settings(max_examples=150, deadline=None)
def test_any_text_round_trips_through_csv_export_and_import(
    texts: list[str], delimiter: str
) -> None:
    rows = [{"text": t, "expressions": i + 1} for i, t in enumerate(texts)]
    exported = table_csv(["text", "expressions"], rows)
    if delimiter != ",":
        # The same rows as a spreadsheet in a French locale would save them.
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerows(csv.reader(io.StringIO(exported)))
        exported = out.getvalue()
    table = read_csv(exported.encode("utf-8"))
    assert table.columns == ["text", "expressions"]
    assert [cells for _n, cells in table.rows] == [[t, str(i + 1)] for i, t in enumerate(texts)]
    assert sniff_delimiter(exported) == delimiter


@given(texts=st.lists(cell_text.filter(lambda s: s == s.strip()), min_size=1, max_size=8))
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_criteria_texts_round_trip_through_export_then_import(
    texts: list[str], meeting: Meeting, facilitator: User
) -> None:
    """What the criteria export writes, the criteria import reads back identically."""
    from spiral.consultations.selectors import current_codings_prefetch
    from spiral.syntheses.exports import CRITERIA_COLUMNS, criteria_rows

    source = MeetingFactory(group=meeting.group)
    question = source.question_set.questions.order_by("position").first()
    for text in texts:
        CriterionFactory(meeting=source, question=question, text=text)
    exported = table_csv(
        CRITERIA_COLUMNS,
        criteria_rows(
            Criterion.objects.filter(meeting=source)
            .order_by("pk")
            .prefetch_related(current_codings_prefetch())
        ),
    )
    other = MeetingFactory(group=meeting.group)
    job = run_import(facilitator, other, exported.encode())
    assert job.status == ImportStatus.DONE, job.errors
    assert list(Criterion.objects.filter(meeting=other).values_list("text", flat=True)) == texts


# --- Criteria imports ----------------------------------------------------------------------


def test_three_bad_lines_among_1000_save_nothing_then_the_corrected_file_saves_all(
    meeting: Meeting, facilitator: User
) -> None:
    # Figures consistent before the import (the fixtures are made around the services), with a
    # criterion already there, so the import adds to existing figures.
    CriterionFactory(meeting=meeting, text="Déjà là")
    territory_stats_rebuild()
    bad = {
        17: ["", "1", "A01", "q1"],  # empty criterion
        500: ["Critère numéro 500", "beaucoup", "A01", "q2"],  # count is not a number
        999: ["Critère numéro 999", "1", "Z99", "q3"],  # no such component
    }
    job = run_import(facilitator, meeting, criteria_file(1000, bad=bad))
    assert job.status == ImportStatus.REJECTED
    assert Criterion.objects.filter(meeting=meeting).count() == 1
    # File lines: the header is line 1, data line n is file line n + 1.
    reasons = {e["line"]: e["message"] for e in job.errors}
    assert sorted(reasons) == [18, 501, 1000]
    assert "empty" in reasons[18]
    assert "beaucoup" in reasons[501]
    assert "Z99" in reasons[1000]

    job = run_import(facilitator, meeting, criteria_file(1000))
    assert job.status == ImportStatus.DONE, job.errors
    assert job.created_count == 1000
    criteria = Criterion.objects.filter(meeting=meeting).exclude(text="Déjà là")
    assert criteria.count() == 1000
    assert Coding.objects.filter(criterion__meeting=meeting).count() == sum(
        1 for n in range(1, 1001) if CODES[n % 7]
    )
    by_kind = dict(criteria.values_list("question__code").annotate(n=Count("pk")))
    assert by_kind == {"q1": 333, "q2": 334, "q3": 333}
    stats = TerritoryStats.objects.get(territory=meeting.group.territory)
    assert stats.criteria == 1001
    assert stats.expressions == 1 + sum(1 + n % 3 for n in range(1, 1001))
    # The stored figures after the import equal a full rebuild from the rows.
    synthesis = territory_synthesis(territory=meeting.group.territory)
    assert synthesis.total.criteria == 1001
    cells = set(SynthesisCell.objects.values_list(*CELL_FIELDS))
    territory_stats_rebuild()
    assert set(SynthesisCell.objects.values_list(*CELL_FIELDS)) == cells


def test_reasons_are_translated(meeting: Meeting, facilitator: User) -> None:
    from django.utils import translation

    with translation.override("fr"):
        job = run_import(facilitator, meeting, criteria_file(3, bad={2: ["", "1", "", "q1"]}))
    assert job.status == ImportStatus.REJECTED
    assert "vide" in job.errors[0]["message"]


def test_import_is_idempotent_when_a_task_runs_twice(meeting: Meeting, facilitator: User) -> None:
    job = run_import(facilitator, meeting, criteria_file(20))
    assert job.created_count == 20
    job.content = criteria_file(20)
    job.save()
    import_job_run(job=job)
    assert Criterion.objects.filter(meeting=meeting).count() == 20


def test_default_question_when_no_column_says(meeting: Meeting, facilitator: User) -> None:
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=facilitator,
        filename="paste.txt",
        content=b"2;Voir la mer;A07\n1;Avoir du temps pour moi\n",
        territory=meeting.group.territory,
        meeting=meeting,
    )
    assert job.mapping["question"] is None
    job = import_job_run(job=job)
    assert job.status == ImportStatus.REJECTED
    assert "question" in job.errors[0]["message"]
    job.options = {"question": "q2"}
    job.save()
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE
    criteria = Criterion.objects.filter(meeting=meeting).order_by("position")
    assert [(c.text, c.expressions, c.question.code) for c in criteria] == [
        ("Voir la mer", 2, "q2"),
        ("Avoir du temps pour moi", 1, "q2"),
    ]


def test_group_import_finds_or_creates_meetings_by_date(
    meeting: Meeting, facilitator: User
) -> None:
    group = meeting.group
    territory_stats_rebuild()
    content = (
        "date,question,text,code,language\n"
        f"{meeting.held_on:%d/%m/%Y},q1,Un jardin,B01,fr\n"
        "2026-11-03,q2,The noise,B01,en\n"
        "2026-11-03,q3,I help,,\n"
    ).encode()
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=facilitator,
        filename="g.csv",
        content=content,
        territory=group.territory,
        group=group,
    )
    assert job.mapping["meeting_date"] == 0
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE, job.errors
    assert Criterion.objects.filter(meeting=meeting).count() == 1
    new = Meeting.objects.get(group=group, held_on="2026-11-03")
    assert list(new.criteria.values_list("language", flat=True)) == ["en", "fr"]
    cells = set(SynthesisCell.objects.values_list(*CELL_FIELDS))
    territory_stats_rebuild()
    assert set(SynthesisCell.objects.values_list(*CELL_FIELDS)) == cells


def test_territory_import_names_groups(tree: dict[str, Territory], coordinator: User) -> None:
    group = GroupFactory(territory=tree["neighbourhood"], name="Les aînés")
    content = (
        "groupe;date;question;critère\nLes aînés;2026-10-01;q1;La santé\nInconnu;2026-10-01;q1;x\n"
    )
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=coordinator,
        filename="t.csv",
        content=content.encode(),
        territory=tree["town"],
    )
    job = import_job_run(job=job)
    assert job.status == ImportStatus.REJECTED
    assert job.errors[0]["line"] == 3
    assert "Inconnu" in job.errors[0]["message"]
    job.content = content.rsplit("Inconnu", 1)[0].encode()
    job.save()
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE
    assert Criterion.objects.get(group=group).text == "La santé"


def test_large_import_runs_as_a_task_with_progress(
    meeting: Meeting, facilitator: User, settings: Any
) -> None:
    settings.SPIRAL_IMPORT_SYNC_LIMIT = 10
    settings.TASKS = DUMMY
    from django_tasks import default_task_backend

    client = client_for(facilitator)
    response = client.post(
        f"/transfers/meetings/{meeting.pk}/import/",
        {"file": SimpleUploadedFile("big.csv", criteria_file(50))},
    )
    job = ImportJob.objects.get()
    assert response.url == f"/transfers/imports/{job.pk}/"
    mapping = {f"map_{k}": "" if v is None else str(v) for k, v in job.mapping.items()}
    mapping.pop("map_group"), mapping.pop("map_meeting_date")
    default_task_backend.clear()  # type: ignore[attr-defined]
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/transfers/imports/{job.pk}/", {**mapping, "has_header": "on"})
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert len(default_task_backend.results) == 1  # type: ignore[attr-defined]
    progress = client.get(f"/transfers/imports/{job.pk}/progress/").json()
    assert progress["running"] is True
    assert progress["total"] == 50
    page = client.get(f"/transfers/imports/{job.pk}/")
    assert b"data-progress-url" in page.content

    from spiral.transfers.tasks import import_job_task

    settings.TASKS = IMMEDIATE
    result = import_job_task.call(job_id=job.pk)
    assert result["status"] == ImportStatus.DONE
    progress = client.get(f"/transfers/imports/{job.pk}/progress/").json()
    assert progress == {
        "status": "done",
        "status_label": "saved",
        "processed": 50,
        "total": 50,
        "percent": 100,
        "running": False,
    }
    assert Criterion.objects.filter(meeting=meeting).count() == 50


def test_screens_upload_map_report_and_replace(meeting: Meeting, facilitator: User) -> None:
    client = client_for(facilitator)
    response = client.post(
        f"/transfers/meetings/{meeting.pk}/import/",
        {"file": SimpleUploadedFile("c.csv", criteria_file(5, bad={3: ["x", "0", "", "q1"]}))},
    )
    job = ImportJob.objects.get()
    page = client.get(response.url)
    assert "Critère numéro 1" in page.content.decode()  # the preview
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["has_header"] = "on"
    response = client.post(f"/transfers/imports/{job.pk}/", data)
    report = client.get(response.url)
    assert b"Nothing was saved." in report.content
    assert b"is not a number of expressions" in report.content
    assert Criterion.objects.count() == 0
    csv_report = client.get(f"/transfers/imports/{job.pk}/report.csv")
    assert b"line,reason,content" in csv_report.content
    response = client.post(
        f"/transfers/imports/{job.pk}/replace/",
        {"file": SimpleUploadedFile("c2.csv", criteria_file(5))},
    )
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/transfers/imports/{new.pk}/"
    job.refresh_from_db()
    new.refresh_from_db()
    # Same columns: the kept mapping is used at once, no second click.
    assert new.mapping == job.mapping
    assert new.status == ImportStatus.DONE
    assert Criterion.objects.filter(meeting=meeting).count() == 5


def test_a_corrected_file_with_other_columns_goes_back_to_the_column_choice(
    meeting: Meeting, facilitator: User
) -> None:
    client = client_for(facilitator)
    client.post(
        f"/transfers/meetings/{meeting.pk}/import/",
        {"file": SimpleUploadedFile("c.csv", criteria_file(5, bad={3: ["x", "0", "", "q1"]}))},
    )
    job = ImportJob.objects.get()
    page = client.get(f"/transfers/imports/{job.pk}/")
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["has_header"] = "on"
    client.post(f"/transfers/imports/{job.pk}/", data)
    other = b"criterion;count\nAvoir un jardin;2\n"
    response = client.post(
        f"/transfers/imports/{job.pk}/replace/", {"file": SimpleUploadedFile("c2.csv", other)}
    )
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/transfers/imports/{new.pk}/"
    assert new.status == ImportStatus.UPLOADED
    assert Criterion.objects.filter(meeting=meeting).count() == 0


# --- Territories and groups ----------------------------------------------------------------


def test_territories_import_builds_a_tree(tree: dict[str, Territory], coordinator: User) -> None:
    content = (
        "code,name,kind,parent,public\n"
        "nord,Quartier nord,neighbourhood,,yes\n"
        "ecole,École Jaurès,collective_actor,nord,oui\n"
        "rue,Rue des lilas,neighbourhood,lime-trees,non\n"
    ).encode()
    job = import_job_create(
        kind=ImportKind.TERRITORIES,
        user=coordinator,
        filename="t.csv",
        content=content,
        territory=tree["town"],
    )
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE, job.errors
    school = Territory.objects.get(name="École Jaurès")
    assert school.parent.name == "Quartier nord"
    assert school.ancestor_ids()[:4] == [
        t.pk for t in (tree["network"], tree["country"], tree["region"], tree["town"])
    ]
    street = Territory.objects.get(name="Rue des lilas")
    assert street.parent == tree["neighbourhood"]
    assert not street.is_public


def test_territories_import_by_path_and_errors(
    tree: dict[str, Territory], coordinator: User
) -> None:
    content = (
        b"path;name;kind\na;A;locality\na/b;B;neighbourhood\nx/c;C;neighbourhood\na/d;D;planet\n"
    )
    job = import_job_create(
        kind=ImportKind.TERRITORIES,
        user=coordinator,
        filename="t.csv",
        content=content,
        territory=tree["town"],
    )
    job = import_job_run(job=job)
    assert job.status == ImportStatus.REJECTED
    assert [e["line"] for e in job.errors] == [4, 5]
    assert not Territory.objects.filter(name="A").exists()
    loop = b"code,name,kind,parent\nm,M,locality,n\nn,N,locality,m\n"
    job = import_job_create(
        kind=ImportKind.TERRITORIES,
        user=coordinator,
        filename="t.csv",
        content=loop,
        territory=tree["town"],
    )
    assert import_job_run(job=job).status == ImportStatus.REJECTED


def test_groups_import(tree: dict[str, Territory], coordinator: User) -> None:
    content = (
        "territoire,nom,profil,participants\n"
        "lime-trees,Jeunes du quartier,young_people,9\n"
        "School,Élèves de 3e,Élèves et étudiants,12\n"
        ",Aînés,Personnes âgées,\n"
    ).encode()
    job = import_job_create(
        kind=ImportKind.GROUPS,
        user=coordinator,
        filename="g.csv",
        content=content,
        territory=tree["town"],
    )
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE, job.errors
    assert HomogeneousGroup.objects.get(name="Élèves de 3e").territory == tree["school"]
    assert HomogeneousGroup.objects.get(name="Aînés").territory == tree["town"]
    assert TerritoryStats.objects.get(territory=tree["neighbourhood"]).groups == 1
    # The same file again: every line is now a duplicate, nothing is added.
    again = import_job_create(
        kind=ImportKind.GROUPS,
        user=coordinator,
        filename="g.csv",
        content=content,
        territory=tree["town"],
    )
    again = import_job_run(job=again)
    assert again.status == ImportStatus.REJECTED
    assert again.error_count == 3
    bad = b"name,profile,size\nX,martians,3\nY,elderly,zero\n"
    job = import_job_create(
        kind=ImportKind.GROUPS,
        user=coordinator,
        filename="g.csv",
        content=bad,
        territory=tree["town"],
    )
    job = import_job_run(job=job)
    assert [e["line"] for e in job.errors] == [2, 3]
    assert HomogeneousGroup.objects.count() == 3


# --- Exports -------------------------------------------------------------------------------


def test_list_exports_csv_and_xlsx(meeting: Meeting, facilitator: User) -> None:
    run_import(facilitator, meeting, criteria_file(6))
    client = client_for(facilitator)
    slug = meeting.group.territory.slug
    groups = client.get(f"/transfers/territories/{slug}/export/groups.csv")
    assert groups.status_code == 200
    rows = list(csv.DictReader(io.StringIO(groups.content.decode())))
    assert rows[0]["name"] == meeting.group.name
    assert rows[0]["criteria"] == "6"
    meetings = client.get(f"/transfers/territories/{slug}/export/meetings.csv")
    assert next(iter(csv.DictReader(io.StringIO(meetings.content.decode()))))["criteria"] == "6"
    criteria = client.get(f"/transfers/territories/{slug}/export/criteria.csv")
    rows = list(csv.DictReader(io.StringIO(criteria.content.decode())))
    assert len(rows) == 6
    assert rows[0]["codes"] == "A06"
    xlsx = client.get(f"/transfers/territories/{slug}/export/criteria.xlsx")
    assert read_xlsx(xlsx.content).columns[0] == "id"
    assert client.get(f"/transfers/territories/{slug}/export/nothing.csv").status_code == 404


def _populate(tree: dict[str, Territory]) -> None:
    """Two territories with groups, criteria in three languages, coded and not."""
    big = GroupFactory(territory=tree["neighbourhood"], size=8, name="Jeunes de Marie")
    small = GroupFactory(
        territory=tree["school"],
        size=3,
        profile=GroupProfile.objects.get(code="elderly"),
        description="Chez Mme Dupont",
    )
    for group, day in ((big, 1), (small, 2)):
        meeting = MeetingFactory(group=group, held_on=f"2026-10-0{day}")
        questions = list(Question.objects.filter(question_set=meeting.question_set))
        for index, (text, code, language) in enumerate(
            [
                ("Avoir un travail", "A06", "fr"),
                ("Friends around me", "D03/P--", "en"),
                ("Saúde", "", "pt"),
                ("Le bruit, la nuit", "B01", "fr"),
                ("J'aide ma voisine", "H01", "fr"),
            ]
        ):
            criterion = CriterionFactory(
                meeting=meeting,
                question=questions[index % 3],
                text=f"{text} {group.pk}",
                language=language,
                expressions=1 + index,
            )
            if code:
                from spiral.coding.services import criterion_codings_replace
                from spiral.grid.codes import GridIndex

                grid = GridIndex(GridVersion.objects.get(is_default=True))
                criterion_codings_replace(
                    criterion=criterion, codes=[grid.resolve(code)], user=None
                )
    from spiral.syntheses.services import territory_stats_rebuild

    territory_stats_rebuild()


def _package(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    descriptor = json.loads(archive.read("datapackage.json"))
    tables = {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
        if name.endswith(".csv")
    }
    return descriptor, tables


def test_package_describes_every_column_and_applies_small_numbers(
    tree: dict[str, Territory],
) -> None:
    _populate(tree)
    content, report = package_build(territory=tree["town"])
    descriptor, tables = _package(content)
    assert descriptor["profile"] == "tabular-data-package"
    for resource in descriptor["resources"]:
        if resource.get("format") != "csv":
            continue
        header = list(tables[resource["path"]][0].keys()) if tables[resource["path"]] else None
        fields = resource["schema"]["fields"]
        assert all(f["type"] and f["description"] for f in fields)
        if header is not None:
            assert header == [f["name"] for f in fields]
        for f in fields:
            if f["type"] == "integer":
                assert all(
                    row[f["name"]] == "" or row[f["name"]].isdigit()
                    for row in tables[resource["path"]]
                )
    groups = {row["territory_id"]: row for row in tables["groups.csv"]}
    # 3 elderly people in the school: their profile would single them out.
    assert groups[str(tree["school"].pk)]["profile"] == ""
    assert groups[str(tree["neighbourhood"].pk)]["profile"] != ""
    assert all("Marie" not in row["name"] for row in tables["groups.csv"])
    assert "Dupont" not in content.decode("latin-1")
    assert report.suppressed_profiles == 1
    assert descriptor["spiral"]["suppressed"]["group_profiles"] == 1
    assert len(tables["criteria.csv"]) == 10
    assert len(tables["codings.csv"]) == 8
    # The team's package keeps the names.
    full, _report = package_build(territory=tree["town"], public=False)
    assert "Jeunes de Marie" in _package(full)[1]["groups.csv"][0]["name"] + "".join(
        r["name"] for r in _package(full)[1]["groups.csv"]
    )


def test_private_territories_are_left_out_of_public_packages(tree: dict[str, Territory]) -> None:
    _populate(tree)
    tree["school"].is_public = False
    tree["school"].save()
    content, report = package_build(territory=tree["town"])
    _descriptor, tables = _package(content)
    assert str(tree["school"].pk) not in {row["id"] for row in tables["territories.csv"]}
    assert len(tables["criteria.csv"]) == 5
    assert report.private_territories_left_out == 1


def test_codebook_is_refi_qda_with_stable_guids(db: None) -> None:
    version = GridVersion.objects.get(is_default=True)
    text = codebook_qdc(version=version)
    assert text == codebook_qdc(version=version)
    root = ET.fromstring(text.encode())
    ns = "{urn:QDA-XML:codebook:1.0}"
    assert root.tag == f"{ns}CodeBook"
    top = root.find(f"{ns}Codes")
    assert top is not None
    dimension = top.find(f"{ns}Code")
    assert dimension is not None
    assert dimension.get("isCodable") == "true"
    component = dimension.find(f"{ns}Code")
    assert component is not None
    code = component.get("name", "").split()[0]
    assert component.get("guid") == code_guid(
        version_code=version.code, kind="component", code=code
    )
    assert uuid.UUID(component.get("guid", "")).version == 5
    guids = [c.get("guid") for c in root.iter(f"{ns}Code")]
    assert len(guids) == len(set(guids))
    assert root.iter(f"{ns}Description") is not None


def _wipe() -> None:
    """An empty database, as far as the package is concerned (the reference data stays)."""
    from spiral.coding.models import Suggestion, SuggestionModel

    Suggestion.objects.all().delete()
    Coding.objects.all().delete()
    Criterion.all_objects.all().delete()
    Meeting.objects.all().delete()
    ImportJob.objects.all().delete()
    HomogeneousGroup.objects.all().delete()
    Territory.objects.all().delete()
    SuggestionModel.objects.all().delete()
    GridVersion.objects.all().delete()


def _summary(territory: Territory, filters: SynthesisFilters | None = None) -> dict[str, Any]:
    synthesis = territory_synthesis(territory=territory, filters=filters)
    return {
        "rows": synthesis.as_rows(),
        "totals": {k: (f.criteria, f.expressions) for k, f in synthesis.totals.items()},
        "coded": {k: (f.criteria, f.expressions) for k, f in synthesis.coded.items()},
        "participants": synthesis.participants,
        "version": synthesis.version.code,
        "label": synthesis.scope_label,
    }


@pytest.mark.parametrize("public", [True, False])
def test_package_round_trip_gives_the_same_synthesis(
    tree: dict[str, Territory], public: bool
) -> None:
    _populate(tree)
    scope = tree["town"]
    before = _summary(scope)
    before_fr = _summary(scope, SynthesisFilters(language="fr"))
    before_kind = _summary(scope, SynthesisFilters(question_kind="well_being"))
    assert before["totals"]
    content, _report = package_build(territory=scope, public=public)
    _wipe()
    assert not Territory.objects.exists()
    assert not GridVersion.objects.exists()
    counts = package_import(content=content)
    assert counts["criteria"] == 10
    assert counts["codings"] == 8
    imported = Territory.objects.get(parent__isnull=True)
    assert imported.name == scope.name
    assert _summary(imported) == before
    assert _summary(imported, SynthesisFilters(language="fr")) == before_fr
    assert _summary(imported, SynthesisFilters(question_kind="well_being")) == before_kind
    cells = set(SynthesisCell.objects.values_list(*CELL_FIELDS))
    territory_stats_rebuild()
    assert set(SynthesisCell.objects.values_list(*CELL_FIELDS)) == cells
    # And the imported scope exports the same package again (ids aside).
    again, _ = package_build(territory=imported, public=public)
    first_texts = sorted(r["text"] for r in _package(content)[1]["criteria.csv"])
    assert sorted(r["text"] for r in _package(again)[1]["criteria.csv"]) == first_texts


def test_package_import_refuses_a_broken_package(tree: dict[str, Territory]) -> None:
    from spiral.core.errors import ImportRejected

    _populate(tree)
    content, _ = package_build(territory=tree["town"])
    archive = zipfile.ZipFile(io.BytesIO(content))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "codings.csv":
                data = data.replace(b"A06", b"Z99")
            out.writestr(name, data)
    territories = Territory.objects.count()
    with pytest.raises(ImportRejected) as rejected:
        package_import(content=broken.getvalue(), parent=tree["network"])
    assert "Z99" in str(rejected.value)
    assert Territory.objects.count() == territories
    with pytest.raises(ImportRejected):
        package_import(content=b"not a zip")


# --- Commands ------------------------------------------------------------------------------


def test_commands_import_criteria_and_packages(
    tree: dict[str, Territory], meeting: Meeting, tmp_path: Any
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(criteria_file(4, bad={2: ["", "1", "", "q1"]}))
    with pytest.raises(CommandError, match="Nothing was saved"):
        call_command("import_criteria", str(path), "--meeting", str(meeting.pk))
    path.write_bytes(criteria_file(4))
    out = io.StringIO()
    call_command("import_criteria", str(path), "--meeting", str(meeting.pk), stdout=out)
    assert "4 criteria imported" in out.getvalue()
    pasted = tmp_path / "p.txt"
    pasted.write_text("3;Voir la mer;A07\n", encoding="utf-8")
    call_command(
        "import_criteria",
        str(pasted),
        "--meeting",
        str(meeting.pk),
        "--question",
        "q1",
        stdout=io.StringIO(),
    )
    assert Criterion.objects.filter(meeting=meeting).count() == 5
    named = tmp_path / "n.csv"
    named.write_text("a,b\nx,Le calme\n", encoding="utf-8")
    call_command(
        "import_criteria",
        str(named),
        "--meeting",
        str(meeting.pk),
        "--column",
        "text=b",
        "--question",
        "q3",
        stdout=io.StringIO(),
    )
    assert Criterion.objects.filter(text="Le calme").exists()

    package = tmp_path / "p.zip"
    call_command(
        "export_package", str(package), "--territory", str(tree["town"].pk), stdout=io.StringIO()
    )
    assert zipfile.ZipFile(package).read("datapackage.json")
    out = io.StringIO()
    call_command("import_package", str(package), "--parent", tree["other_town"].slug, stdout=out)
    assert "6 criteria" in out.getvalue()
    copy = Territory.objects.get(parent=tree["other_town"])
    assert copy.name == "Town"
    assert copy.slug != "town"


# --- Permissions: every view, allowed and denied --------------------------------------------


@pytest.fixture
def network_admin(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.NETWORK_ADMIN, tree["network"])


def test_permissions_of_import_views(
    tree: dict[str, Territory],
    meeting: Meeting,
    facilitator: User,
    coordinator: User,
    outsider: User,
) -> None:
    town = tree["town"].slug
    urls_by_allowed = [
        (f"/transfers/meetings/{meeting.pk}/import/", facilitator),
        (f"/transfers/groups/{meeting.group.pk}/import/", facilitator),
        (f"/transfers/territories/{town}/import/criteria/", facilitator),
        (f"/transfers/territories/{town}/import/groups/", facilitator),
        (f"/transfers/territories/{town}/import/territories/", coordinator),
    ]
    for url, allowed in urls_by_allowed:
        assert client_for(allowed).get(url).status_code == 200, url
        assert client_for(outsider).get(url).status_code == 403, url
        assert client_for(None).get(url).status_code == 302, url
    # A facilitator does not manage the territory's tree.
    assert client_for(facilitator).get(urls_by_allowed[-1][0]).status_code == 403
    assert (
        client_for(facilitator).get(f"/transfers/territories/{town}/import/x/").status_code == 404
    )

    job = run_import(facilitator, meeting, criteria_file(2, bad={1: ["", "1", "", "q1"]}))
    for suffix in ("", "progress/", "report.csv"):
        url = f"/transfers/imports/{job.pk}/{suffix}"
        assert client_for(facilitator).get(url).status_code == 200, url
        # Someone else, even a coordinator of the same territory, does not see another's file.
        assert client_for(coordinator).get(url).status_code == 403, url
        assert client_for(outsider).get(url).status_code == 403, url
    replace = f"/transfers/imports/{job.pk}/replace/"
    upload = {"file": SimpleUploadedFile("c.csv", criteria_file(2))}
    assert client_for(outsider).post(replace, upload).status_code == 403
    assert client_for(facilitator).post(replace, upload).status_code == 302


def test_permissions_of_export_views(
    tree: dict[str, Territory], meeting: Meeting, facilitator: User, outsider: User
) -> None:
    town = tree["town"].slug
    for what in ("groups", "meetings", "criteria"):
        for fmt in ("csv", "xlsx"):
            url = f"/transfers/territories/{town}/export/{what}.{fmt}"
            assert client_for(facilitator).get(url).status_code == 200, url
            assert client_for(outsider).get(url).status_code == 403, url
            assert client_for(None).get(url).status_code == 403, url
    package = f"/transfers/territories/{town}/package.zip"
    assert client_for(None).get(package).status_code == 200
    assert client_for(None).get(package + "?full=1").status_code == 403
    assert client_for(outsider).get(package + "?full=1").status_code == 403
    assert client_for(facilitator).get(package + "?full=1").status_code == 200
    tree["town"].is_public = False
    tree["town"].save()
    assert client_for(None).get(package).status_code == 403
    assert client_for(facilitator).get(package).status_code == 404
    hub = f"/transfers/territories/{town}/"
    assert client_for(facilitator).get(hub).status_code == 200
    assert client_for(None).get(hub).status_code == 403
    code = GridVersion.objects.get(is_default=True).code
    assert client_for(None).get(f"/transfers/grid/{code}/codebook.qdc").status_code == 200
    assert client_for(None).get("/transfers/grid/no-such-grid/codebook.qdc").status_code == 404


def test_hub_shows_links_by_permission(
    tree: dict[str, Territory], facilitator: User, coordinator: User
) -> None:
    hub = f"/transfers/territories/{tree['town'].slug}/"
    public = client_for(None).get(hub).content.decode()
    assert "package.zip" in public
    assert "export/groups.csv" not in public
    assert "import/territories" not in client_for(facilitator).get(hub).content.decode()
    assert "import/territories" in client_for(coordinator).get(hub).content.decode()
    assert "codebook.qdc" in public
    assert "/transfers/package/import/" not in client_for(coordinator).get(hub).content.decode()


def test_permissions_of_package_upload(
    tree: dict[str, Territory], network_admin: User, coordinator: User
) -> None:
    _populate(tree)
    content, _ = package_build(territory=tree["school"])
    url = "/transfers/package/import/"
    assert client_for(coordinator).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    assert client_for(network_admin).get(url).status_code == 200
    response = client_for(network_admin).post(
        url, {"file": SimpleUploadedFile("p.zip", content), "parent": tree["other_town"].slug}
    )
    assert response.status_code == 200
    assert b"Loaded: 1 territories" in response.content
    assert Territory.objects.filter(parent=tree["other_town"], name="School").exists()


def test_links_hooked_into_existing_pages(meeting: Meeting, facilitator: User) -> None:
    client = client_for(facilitator)
    assert (
        f"/transfers/meetings/{meeting.pk}/import/"
        in client.get(f"/meetings/{meeting.pk}/").content.decode()
    )
    assert (
        f"/transfers/groups/{meeting.group.pk}/import/"
        in client.get(f"/groups/{meeting.group.pk}/").content.decode()
    )
    slug = meeting.group.territory.slug
    assert f"/transfers/territories/{slug}/" in client.get(f"/territories/{slug}/").content.decode()
    assert UserFactory  # factories stay importable for the e2e module


def test_xlsx_import_counts_declared_rows_then_reads_them_all(
    meeting: Meeting, facilitator: User
) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Critère", "Nombre", "Code", "Question"])
    for row in range(1, 151):
        sheet.write_row(row, 0, [f"Critère {row}", 1 + row % 2, "A06" if row % 3 else "", "q1"])
    workbook.close()
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=facilitator,
        filename="c.xlsx",
        content=buffer.getvalue(),
        territory=meeting.group.territory,
        meeting=meeting,
    )
    assert job.file_format == "xlsx"
    assert job.total_lines == 150
    job = import_job_run(job=job)
    assert job.status == ImportStatus.DONE, job.errors
    assert job.created_count == 150 == job.processed_lines
    assert Coding.objects.filter(criterion__meeting=meeting).count() == 100


def test_group_synthesis_export(meeting: Meeting, facilitator: User, outsider: User) -> None:
    run_import(facilitator, meeting, criteria_file(9))
    group = meeting.group
    url = f"/transfers/groups/{group.pk}/synthesis.csv"
    response = client_for(facilitator).get(url)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    a06 = [r for r in rows if r["code"] == "A06"]
    assert sum(int(r["criteria"]) for r in a06) == sum(1 for n in range(1, 10) if n % 7 == 1)
    one = client_for(facilitator).get(
        f"/transfers/groups/{group.pk}/synthesis.xlsx?meeting={meeting.pk}"
    )
    assert one.status_code == 200
    assert one.content[:2] == b"PK"
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    page = client_for(facilitator).get(f"/groups/{group.pk}/synthesis/")
    assert url in page.content.decode()
