// Storage events: STAC item blobs written to a watched storage account reach the app's
// `ingest_events` function through an Event Grid system topic on that account. Deployed into the
// account's own resource group (it may be anywhere in the tenant) when storageEventsEnabled.
//
// - a system topic on the account and a subscription to the function, filtered to the routes'
//   containers and the item suffix, BlobCreated and BlobDeleted only, retried as Event Grid does
//   (30 attempts within 24 h) and then dead-lettered into a container of the same account;
// - Storage Blob Data Reader for the app's identity (read the item blobs, and sign user-delegation
//   SAS for the GeoCatalog's ingestion sources: generateUserDelegationKey is part of the role);
// - Storage Blob Data Reader for the GeoCatalog's managed identity, when given, which the service
//   then registers as a BlobManagedIdentity ingestion source instead of a SAS.

@description('Name of the existing storage account to watch (in this resource group).')
param storageAccountName string

@description('Resource id of the Function App whose ingest_events function receives the events.')
param functionAppId string

@description('Principal (object) id of the Function App\'s user-assigned identity.')
param appPrincipalId string

@description('Principal (object) id of the GeoCatalog\'s user-assigned identity; empty: none.')
param geocatalogPrincipalId string = ''

@description('Containers the routes watch; the subscription delivers only their blobs.')
@minLength(1)
param containers array

@description('Blob-name suffix of item blobs (the routes\' suffix); empty: every blob.')
param subjectSuffix string = '.json'

@description('Schema Event Grid delivers in; the function reads both.')
@allowed(['EventGridSchema', 'CloudEventSchemaV1_0'])
param eventDeliverySchema string = 'EventGridSchema'

@description('Container of this account that receives the events Event Grid gave up on.')
param deadLetterContainerName string = 'ingest-events-deadletter'

@description('Tags for the system topic.')
param tags object = {}

var roles = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  // Event Grid writes dead-lettered events as blobs with the topic's identity.
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}

resource source 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: source
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: 'evgt-${storageAccountName}'
  // A system topic lives where its source does.
  location: source.location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: source.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, topic.id, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource appReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(source.id, appPrincipalId, roles.storageBlobDataReader)
  scope: source
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource geocatalogReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(geocatalogPrincipalId)) {
  name: guid(source.id, geocatalogPrincipalId, roles.storageBlobDataReader)
  scope: source
  properties: {
    principalId: geocatalogPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'ingest-events'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/ingest_events'
        maxEventsPerBatch: 10
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: eventDeliverySchema
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
        'Microsoft.Storage.BlobDeleted'
      ]
      subjectEndsWith: subjectSuffix
      advancedFilters: [
        {
          operatorType: 'StringBeginsWith'
          key: 'subject'
          values: [for container in containers: '/blobServices/default/containers/${container}/blobs/']
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: source.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
  dependsOn: [deadLetterWriter]
}

output systemTopicName string = topic.name
output deadLetterContainer string = deadLetterContainer.name
