"""The embedded DynamoDB and DynamoDB Streams through boto3 (JSON 1.0, aws-semantics.md 3.3-3.4),
and a DynamoDB stream mapping delivering INSERT / MODIFY / REMOVE to the URL function."""

from __future__ import annotations

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.config import Config
from botocore.exceptions import ClientError

from sluice_compat import (
    ACCOUNT,
    DDB_STREAM_ARN,
    REGION,
    URL_FUNCTION,
    SluiceServer,
    config_toml,
    poll_until,
    unique_name,
    wait_state,
)


def _kwargs(endpoint: str) -> dict:
    return dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def ddb(endpoint):
    return boto3.session.Session().client("dynamodb", **_kwargs(endpoint))


@pytest.fixture(scope="module")
def ddb_streams(endpoint):
    return boto3.session.Session().client("dynamodbstreams", **_kwargs(endpoint))


@pytest.fixture
def table(ddb):
    """A fresh table (pk S, sk N) with a NEW_AND_OLD_IMAGES stream; deleted at teardown."""
    name = unique_name("tbl")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield name
    try:
        ddb.delete_table(TableName=name)
    except ClientError:
        pass


def test_dynamodb_table_lifecycle_and_errors(ddb):
    name = unique_name("life")
    out = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    label = out["LatestStreamLabel"]
    assert out["LatestStreamArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/stream/{label}"
    assert out["TableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    assert out["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert len(label) == 23 and label[10] == "T"
    assert name in ddb.list_tables()["TableNames"]
    assert "users" in ddb.list_tables()["TableNames"], "config-declared table"
    users = ddb.describe_table(TableName="users")["Table"]
    assert users["LatestStreamArn"] == DDB_STREAM_ARN

    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert e.value.response["Error"]["Code"] == "ResourceInUseException"

    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=name)
    err = e.value.response["Error"]
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_dynamodb_items_and_conditions(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "a"}, "sk": {"N": "1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert e.value.response["Error"]["Message"] == "The conditional request failed"

    out = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET #v = :v ADD hits :one",
        ConditionExpression="#v = :old",
        ExpressionAttributeNames={"#v": "v"},
        ExpressionAttributeValues={":v": {"S": "two"}, ":old": {"S": "one"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {
        "pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "two"}, "hits": {"N": "1"},
    }
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
    assert item["v"] == {"S": "two"}
    old = ddb.delete_item(
        TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD"
    )["Attributes"]
    assert old["hits"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})

    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == "The provided key element does not match the schema"
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"S": "x"}, ":unused": {"S": "y"}},
        )
    assert e.value.response["Error"]["Message"] == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    )


def test_dynamodb_resource_api_query_and_scan(endpoint, table):
    res = boto3.session.Session().resource("dynamodb", **_kwargs(endpoint))
    t = res.Table(table)
    with t.batch_writer() as w:
        for i in range(7):
            w.put_item(Item={"pk": "p", "sk": i, "body": f"b{i}"})
    t.put_item(Item={"pk": "q", "sk": 1})
    got = t.get_item(Key={"pk": "p", "sk": 3})["Item"]
    assert got == {"pk": "p", "sk": 3, "body": "b3"}
    q = t.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").between(2, 4))
    assert [i["sk"] for i in q["Items"]] == [2, 3, 4]
    q = t.query(KeyConditionExpression=Key("pk").eq("p"), ScanIndexForward=False, Limit=3)
    assert [i["sk"] for i in q["Items"]] == [6, 5, 4]
    assert q["LastEvaluatedKey"] == {"pk": "p", "sk": 4}
    seen, start = [], None
    while True:
        kw = {"Limit": 3}
        if start:
            kw["ExclusiveStartKey"] = start
        page = t.scan(**kw)
        seen.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert len(seen) == 8


def test_dynamodb_stream_records_via_streams_api(ddb, ddb_streams, table):
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    key = {"pk": {"S": "s"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}})  # unchanged: no record
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key=key)

    streams = ddb_streams.list_streams(TableName=table)["Streams"]
    assert [s["StreamArn"] for s in streams] == [arn]
    desc = ddb_streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert desc["TableName"] == table
    shard = desc["Shards"][0]
    assert shard["ShardId"].startswith("shardId-")
    assert "StartingSequenceNumber" in shard["SequenceNumberRange"]
    it = ddb_streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    out = ddb_streams.get_records(ShardIterator=it, Limit=1000)
    recs = out["Records"]
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    for r in recs:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["awsRegion"] == REGION
        assert len(r["eventID"]) == 32
        assert r["dynamodb"]["Keys"] == key
        assert r["dynamodb"]["SizeBytes"] > 0
    assert recs[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert recs[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert "NewImage" not in recs[2]["dynamodb"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    latest = ddb_streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    assert ddb_streams.get_records(ShardIterator=latest)["Records"] == []


def test_dynamodb_stream_mapping_delivers_records(ddb, table, esm, lam, function_server):
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    m = esm.create(
        FunctionName=URL_FUNCTION,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
    )
    wait_state(lam, m["UUID"], "Enabled")
    key = {"pk": {"S": "m"}, "sk": {"N": "7"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "a"}})
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET v = :b",
        ExpressionAttributeValues={":b": {"S": "b"}},
    )
    ddb.delete_item(TableName=table, Key=key)

    def probe():
        records = [
            r
            for body in function_server.bodies()
            if isinstance(body, dict)
            for r in body.get("Records", [])
            if r.get("eventSourceARN") == arn
        ]
        return len(records) >= 3, records

    records = poll_until(probe, what="three stream records at the function")
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    ins = records[0]["dynamodb"]
    assert ins["NewImage"] == {**key, "v": {"S": "a"}}
    assert isinstance(ins["ApproximateCreationDateTime"], float)
    assert ins["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert records[1]["dynamodb"]["OldImage"]["v"] == {"S": "a"}
    assert records[2]["dynamodb"]["OldImage"]["v"] == {"S": "b"}


def test_dynamodb_mapping_on_missing_stream_is_refused(lam):
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(
            FunctionName=URL_FUNCTION,
            EventSourceArn=(
                f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ghost/stream/2026-01-01T00:00:00.000"
            ),
            StartingPosition="TRIM_HORIZON",
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_dynamodb_batch_writer_overwrites_and_batch_get(endpoint, ddb, ddb_streams, table):
    """The resource API's batch_writer (BatchWriteItem in 25s, overwrite_by_pkeys
    deduplicating) and BatchGetItem; every change is one stream record."""
    res = boto3.session.Session().resource("dynamodb", **_kwargs(endpoint))
    t = res.Table(table)
    with t.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as w:
        for i in range(30):
            w.put_item(Item={"pk": "bw", "sk": i, "v": i})
        w.put_item(Item={"pk": "bw", "sk": 0, "v": "last wins"})
        w.delete_item(Key={"pk": "bw", "sk": 29})
    count = t.query(KeyConditionExpression=Key("pk").eq("bw"), Select="COUNT")["Count"]
    assert count == 29
    got = res.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": "bw", "sk": 0}, {"pk": "bw", "sk": 29}, {"pk": "bw", "sk": 5}],
                              "ProjectionExpression": "sk, v"}}
    )
    assert got["UnprocessedKeys"] == {}
    items = sorted(got["Responses"][table], key=lambda i: i["sk"])
    assert items == [{"sk": 0, "v": "last wins"}, {"sk": 5, "v": 5}]

    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = ddb_streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = ddb_streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    recs = ddb_streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
    # 25 puts flushed, then 4 new puts, sk 0 again (MODIFY) and the delete of sk 29, whose
    # buffered put the writer dropped (nothing to remove: no record).
    names = [r["eventName"] for r in recs]
    assert names == ["INSERT"] * 29 + ["MODIFY"]


def test_dynamodb_batch_write_errors(ddb, table):
    put = lambda sk: {"PutRequest": {"Item": {"pk": {"S": "e"}, "sk": {"N": str(sk)}}}}
    cases = [
        ({}, "The requestItems parameter is required for BatchWriteItem"),
        ({table: [put(i) for i in range(26)]}, "Too many items requested for the BatchWriteItem call"),
        ({table: [put(1), {"DeleteRequest": {"Key": {"pk": {"S": "e"}, "sk": {"N": "1"}}}}]},
         "Provided list of item keys contains duplicates"),
        ({table: [{"PutRequest": {"Item": {"pk": {"S": "e"}}}}]},
         "One or more parameter values were invalid: Missing the key sk in the item"),
    ]
    for items, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.batch_write_item(RequestItems=items)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert e.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [put(1)], "ghost-table": [put(1)]})
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert ddb.query(
        TableName=table, KeyConditionExpression="pk = :e", ExpressionAttributeValues={":e": {"S": "e"}}
    )["Count"] == 0


def test_dynamodb_transact_write_cancellation_reasons(ddb, table):
    key = {"pk": {"S": "t"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": "n = :two",
                                "ExpressionAttributeValues": {":two": {"N": "2"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"N": "2"}}}},
        ])
    r = e.value.response
    assert r["Error"]["Code"] == "TransactionCanceledException"
    assert r["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None]"
    )
    assert r["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {**key, "n": {"N": "1"}}},
        {"Code": "None"},
    ]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "t"}, "sk": {"N": "2"}})

    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": key, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"N": "2"}}}},
    ])
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": key}},
        {"Get": {"TableName": table, "Key": {"pk": {"S": "t"}, "sk": {"N": "3"}}}},
    ])["Responses"]
    assert got[0]["Item"]["n"] == {"N": "2"}
    assert got[1] == {}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": table, "Key": key}},
            {"ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item"
    )


def test_dynamodb_update_table_stream_cycle(ddb, ddb_streams, table):
    first = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert e.value.response["Error"]["Message"] == f"Table already has an enabled stream: TableName: {table}"
    out = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})["TableDescription"]
    assert "StreamSpecification" not in out
    assert out["LatestStreamArn"] == first
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"})
    assert e.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified"
    )
    assert ddb_streams.describe_stream(StreamArn=first)["StreamDescription"]["StreamStatus"] == "DISABLED"
    out = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    second = out["TableDescription"]["LatestStreamArn"]
    assert second != first
    d = ddb.describe_table(TableName=table)["Table"]
    assert d["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert d["TableStatus"] == "ACTIVE"
    arns = [s["StreamArn"] for s in ddb_streams.list_streams(TableName=table)["Streams"]]
    assert arns == [first, second]


def test_dynamodb_gsi_and_lsi_query(endpoint, ddb):
    name = unique_name("idx")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "email", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{
            "IndexName": "by_email",
            "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "by_score",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )
    try:
        t = boto3.session.Session().resource("dynamodb", **_kwargs(endpoint)).Table(name)
        with t.batch_writer() as w:
            w.put_item(Item={"pk": "u", "sk": 1, "email": "a@x", "score": 7, "extra": "e1"})
            w.put_item(Item={"pk": "u", "sk": 2, "score": 3})
            w.put_item(Item={"pk": "u", "sk": 3, "email": "b@x"})
        desc = ddb.describe_table(TableName=name)["Table"]
        gsi = desc["GlobalSecondaryIndexes"][0]
        assert gsi["IndexName"] == "by_email" and gsi["IndexStatus"] == "ACTIVE"
        assert gsi["ItemCount"] == 2
        assert desc["LocalSecondaryIndexes"][0]["IndexArn"].endswith(f"table/{name}/index/by_score")
        got = t.query(IndexName="by_email", KeyConditionExpression=Key("email").eq("a@x"))["Items"]
        assert got == [{"pk": "u", "sk": 1, "email": "a@x", "score": 7, "extra": "e1"}]
        ranked = t.query(IndexName="by_score", KeyConditionExpression=Key("pk").eq("u"))["Items"]
        assert ranked == [{"pk": "u", "sk": 2, "score": 3}, {"pk": "u", "sk": 1, "score": 7}]
        assert t.scan(IndexName="by_score")["Count"] == 2
        with pytest.raises(ClientError) as e:
            ddb.create_table(
                TableName=unique_name("idx"),
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "g", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                GlobalSecondaryIndexes=[{
                    "IndexName": "g_one",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE"},
                }],
            )
        assert e.value.response["Error"]["Message"] == (
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
        )
    finally:
        ddb.delete_table(TableName=name)


def test_dynamodb_time_to_live_settings(ddb, table):
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    out = ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"
    }
    for spec, message in [
        ({"Enabled": True, "AttributeName": "expires"}, "TimeToLive is already enabled"),
        ({"Enabled": False, "AttributeName": "other"},
         "TimeToLive is active on a different AttributeName: current AttributeName is expires"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert e.value.response["Error"]["Message"] == message
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert e.value.response["Error"]["Message"] == "TimeToLive is already disabled"
    with pytest.raises(ClientError) as e:
        ddb.describe_time_to_live(TableName="ghost-table")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_dynamodb_update_table_gsi_lifecycle(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "g"}, "sk": {"N": "1"}, "tag": {"S": "red"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "g"}, "sk": {"N": "2"}})
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "tag", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": False},
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "by_tag",
                "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }}],
        )
    assert e.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: You cannot create or delete index while changing stream status"
    )
    out = ddb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "tag", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_tag",
            "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    )["TableDescription"]
    assert [i["IndexName"] for i in out["GlobalSecondaryIndexes"]] == ["by_tag"]
    got = ddb.query(
        TableName=table, IndexName="by_tag", KeyConditionExpression="tag = :t",
        ExpressionAttributeValues={":t": {"S": "red"}},
    )["Items"]
    assert got == [{"pk": {"S": "g"}, "sk": {"N": "1"}, "tag": {"S": "red"}}]
    ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_tag"}}])
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=table)["Table"]


def test_dynamodb_transact_client_request_token(ddb, table):
    key = {"pk": {"S": "tok"}, "sk": {"N": "1"}}
    req = dict(ClientRequestToken="compat-token-1", TransactItems=[{"Update": {
        "TableName": table, "Key": key, "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }}])
    ddb.transact_write_items(**req)
    ddb.transact_write_items(**req)
    assert ddb.get_item(TableName=table, Key=key)["Item"]["n"] == {"N": "1"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(ClientRequestToken="compat-token-1", TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "tok"}, "sk": {"N": "2"}}}},
        ])
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "tok"}, "sk": {"N": "2"}})


def test_dynamodb_shards_roll_over_on_the_configured_period(sluice_bin, fn_server, tmp_path):
    """A private server with `[dynamodb] shard_rollover_seconds = 1`: its timer closes the
    open shard (once it holds a record) and opens a child; GetRecords on the closed parent
    ends without NextShardIterator, and new records land in the child."""
    config = tmp_path / "rolling.toml"
    config.write_text(config_toml(fn_server.port) + "\n[dynamodb]\nshard_rollover_seconds = 1\n")
    data = tmp_path / "data"
    data.mkdir()
    server = SluiceServer(sluice_bin, data, config, tmp_path / "logs").start()
    try:
        ddb = boto3.session.Session().client("dynamodb", **_kwargs(server.endpoint))
        streams = boto3.session.Session().client("dynamodbstreams", **_kwargs(server.endpoint))
        arn = ddb.create_table(
            TableName="rolling",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        ddb.put_item(TableName="rolling", Item={"pk": {"S": "before"}})

        def probe():
            shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            return len(shards) >= 2, shards

        shards = poll_until(probe, timeout=15.0, what="a rollover")
        parent, child = shards[0], shards[1]
        assert child["ParentShardId"] == parent["ShardId"]
        assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
        ddb.put_item(TableName="rolling", Item={"pk": {"S": "after"}})
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=parent["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        out = streams.get_records(ShardIterator=it)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["before"]
        assert "NextShardIterator" not in out
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=child["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        got = [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=it)["Records"]]
        assert got == ["after"]
    finally:
        server.kill()


def _raw(endpoint: str, op: str, body: bytes) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        endpoint + "/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{op}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.mark.parametrize("op", [
    "BatchWriteItem", "BatchGetItem", "TransactWriteItems", "TransactGetItems", "UpdateTable",
    "UpdateTimeToLive", "DescribeTimeToLive", "Query", "Scan", "CreateTable",
])
def test_dynamodb_malformed_input_is_a_client_error(endpoint, table, op):
    """Shapes botocore would never send: each answer is a 400 with a __type, never a 500."""
    bodies = [
        b"", b"{}", b"[]", b"null", b"{\"TableName\": 5}", b"not json",
        f'{{"TableName": "{table}", "RequestItems": {{"{table}": [{{}}]}}}}'.encode(),
        f'{{"RequestItems": {{"{table}": {{"Keys": [{{"pk": {{"S": "a"}}}}]}}}}}}'.encode(),
        f'{{"RequestItems": {{"{table}": [{{"PutRequest": {{"Item": {{"pk": {{"N": "x"}}}}}}}}]}}}}'.encode(),
        b'{"TransactItems": [{"Put": {}}, {"Update": {"TableName": "x"}}]}',
        b'{"TransactItems": [{"Get": {"TableName": "' + table.encode() + b'", "Key": {"pk": {"S": ""}}}}]}',
        b'{"TransactItems": [{}]}',
        f'{{"TableName": "{table}", "GlobalSecondaryIndexUpdates": [{{}}]}}'.encode(),
        f'{{"TableName": "{table}", "GlobalSecondaryIndexUpdates": [{{"Create": {{"IndexName": "abc"}}}}]}}'.encode(),
        f'{{"TableName": "{table}", "ProvisionedThroughput": {{"ReadCapacityUnits": -1}}}}'.encode(),
        f'{{"TableName": "{table}", "TimeToLiveSpecification": {{}}}}'.encode(),
        f'{{"TableName": "{table}", "IndexName": "nope", "KeyConditionExpression": "pk = :p"}}'.encode(),
        b'{"TableName": "t_idx", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}], '
        b'"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST", '
        b'"GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": [], "Projection": {}}], '
        b'"LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}, '
        b'{"AttributeName": "a", "KeyType": "RANGE"}, {"AttributeName": "a", "KeyType": "HASH"}]}]}',
    ]
    for body in bodies:
        status, out = _raw(endpoint, op, body)
        if status == 200:
            continue  # e.g. DescribeTimeToLive of the fixture table
        assert status == 400, (op, body, status, out)
        assert "#" in out.get("__type", ""), (op, body, out)
        assert out.get("message"), (op, body, out)
    status, out = _raw(endpoint, "DescribeTable", b'{"TableName": "t_idx"}')
    assert status == 400 and out["__type"].endswith("#ResourceNotFoundException"), out
