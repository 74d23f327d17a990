import pytest
import redis

from portal import embedded


def test_the_embedded_redis_starts_once_and_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "_started_here", [])
    url = embedded.redis_url(tmp_path)
    assert url.startswith("unix://")
    client = redis.Redis.from_url(url)
    assert client.ping()
    # A second call finds the running server instead of starting another one.
    assert embedded.redis_url(tmp_path) == url
    assert len(embedded._started_here) == 1

    embedded.stop_servers_started_here()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()


def test_the_embedded_postgres_creates_the_vigil_database(tmp_path, monkeypatch):
    import psycopg2

    monkeypatch.setattr(embedded, "_started_here", [])
    url = embedded.postgres_url(tmp_path)
    try:
        assert url.rsplit("?", 1)[0].endswith("/vigil")
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone() == ("vigil",)
        assert embedded.postgres_url(tmp_path) == url
    finally:
        embedded.stop_servers_started_here()


@pytest.mark.django_db
def test_missing_pages_answer_with_the_portals_own_404_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/resources/999999/edit/")
    assert response.status_code == 404
    assert b"outside the data your role lets you see" in response.content
