from tests.personas import CASE_PROJECT_ID, Cast


def test_it_serves_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_shows_the_case_to_its_lead(cast: Cast):
    response = cast.api("case_lead").get(f"/api/v1/cases/{CASE_PROJECT_ID}")
    assert response.status_code == 200
    assert response.json()["deputies"] == ["deputy"]
