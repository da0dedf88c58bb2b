"""The server as `./start.sh` starts it (fake backend): /health, the page, and the Gradio API with bad input."""

import json
import urllib.request

import pytest
from gradio_client import Client

from qa.tasks import builtin_tasks

from .serving import running_server


@pytest.fixture(scope="module")
def server():
    # started the way README says, through start.sh (its install steps are already done by then)
    with running_server("--backend", "fake") as url:
        yield url


def default_prompt(domain: str) -> str:
    return builtin_tasks().get(domain).system_prompt()


def test_health_names_the_live_model(server):
    body = json.loads(urllib.request.urlopen(server + "/health").read())
    assert body["status"] == "ok"
    assert body["model"]["name"] == "fake" and {"dtype", "device"} <= set(body["model"])


def test_page_is_served(server):
    html = urllib.request.urlopen(server + "/").read().decode()
    assert "<html" in html.lower()


def test_api_answers_and_rejects_out_of_range_values(server):
    client = Client(server, verbose=False)
    chat, _question, _notice, raw, *_buttons = client.predict(
        "什么是市盈率？", default_prompt("finance"), 0.5, 0.9, 256, api_name="/ask_finance"
    )
    assert json.loads(raw)["validation"]["passed"] is True
    assert "风险提示" in json.dumps(chat[-1]["content"], ensure_ascii=False)
    medical = default_prompt("medical")
    for bad in ((5.0, 0.9, 256), (0.5, 0.0, 256), (0.5, 0.9, 10**6)):
        with pytest.raises(Exception, match="temperature|top_p|max_new_tokens|must be|maximum value|minimum value"):
            client.predict("头痛", medical, *bad, api_name="/ask_medical")
    with pytest.raises(Exception, match="empty|空"):
        client.predict("   ", medical, 0.3, 0.9, 256, api_name="/ask_medical")
    # still serving after the bad requests
    assert json.loads(urllib.request.urlopen(server + "/health").read())["status"] == "ok"


def test_metrics_count_rules_that_fired(server):
    client = Client(server, verbose=False)
    client.predict("我爸突然说话含糊不清，嘴角歪了", default_prompt("medical"), 0.3, 0.9, 256, api_name="/ask_medical")
    body = urllib.request.urlopen(server + "/metrics").read().decode()
    assert 'qa_validation_rule_fired_total{rule="red_flag"}' in body
    count = [line for line in body.splitlines() if 'rule="red_flag"' in line][0].split()[-1]
    assert int(count) >= 1
