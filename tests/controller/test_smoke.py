"""A first end-to-end pass through the core: create, read, filter, grant, audit."""


def test_org_team_user_round_trip(admin, make_user, make_org):
    org = make_org("Engineering")
    uid, user = make_user(first_name="Ann")
    team = admin.post("/api/v2/teams/", {"name": "Ops", "organization": org["id"]})
    assert team.status_code == 201, team.json
    assert team.json["summary_fields"]["organization"]["name"] == "Engineering"
    # the user sees nothing before being a member
    assert user.get("/api/v2/teams/").json["count"] == 0
    member_role = team.json["summary_fields"]["object_roles"]["member_role"]["id"]
    assert admin.post(f"/api/v2/users/{uid}/roles/", {"id": member_role}).status_code == 204
    listed = user.get("/api/v2/teams/").json
    assert [t["name"] for t in listed["results"]] == ["Ops"]
    assert user.get(f"/api/v2/users/{uid}/teams/").json["results"][0]["id"] == team.json["id"]
    stream = admin.get(f"/api/v2/teams/{team.json['id']}/activity_stream/").json
    # the grant is history of the team too (AWX links role changes to the role's object)
    assert [e["operation"] for e in stream["results"]] == ["create", "associate"]
    grants = admin.get(f"/api/v2/users/{uid}/activity_stream/?operation=associate").json["results"]
    assert [(g["object1"], g["object2"], g["object_association"]) for g in grants] == [("user", "role", "roles")]
