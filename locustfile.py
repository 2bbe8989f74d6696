"""wxo-load: Locust users that hold watsonx Orchestrate WebChat conversations.

    locust -f locustfile.py --headless -u 5 -r 5 -t 15s            # against the built-in simulator
    locust -f locustfile.py --host http://localhost:4321 --scenario scenarios/realistic.yaml

Everything lives in the wxo_load package; see README.md. The user classes are the scenario's
personas (one class each), or `WxoChatUser` for a scenario without personas.
"""

from wxo_load.locust_plugin.entry import locust_users

globals().update(locust_users(__file__))
